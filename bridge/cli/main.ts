import { registerAccountCommands } from './commands/account.js'
import { registerDemoCommand } from './commands/demo.js'
import { registerIdentityCommands } from './commands/identity.js'
import { registerStartCommand } from './commands/start.js'
import { registerTestnetCommand } from './commands/testnet.js'
import { createProgram, runProgram } from './program.js'

// One line per command group (bridge/cli/commands/*.ts).
const program = createProgram()
registerStartCommand(program)
registerIdentityCommands(program)
registerAccountCommands(program)
registerTestnetCommand(program)
registerDemoCommand(program)

process.exitCode = await runProgram(program, process.argv)
