import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { ParanoimError } from '../errors.js'
import { projectPath } from '../paths.js'
import { EXIT, exitCodeFor } from './errors.js'

const repeatable = (value: string, previous: string[]) => [...previous, value]

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(projectPath('package.json'), 'utf8'))
  return String(pkg.version)
}

/** The `paranoim` program with its global options; command groups register themselves on it. */
export function createProgram(): Command {
  return new Command('paranoim')
    .description('ParanoIM bridge: a local XMPP server on an anonymous peer-to-peer network')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--data-dir <dir>', 'data directory (default: $XDG_DATA_HOME/paranoim)')
    .option('--config <file>', 'config file over the defaults; repeat to layer several', repeatable, [])
    .option(
      '--set <key=value>',
      'one setting, e.g. --set log.level=debug; repeatable, applied last',
      repeatable,
      [],
    )
    .option('--log-level <level>', 'trace | debug | info | warn | error | fatal | silent')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
}

/**
 * Runs the program and turns every outcome into an exit status: known errors
 * print "error: <message>" (no stack) and their class's code; anything else is a bug.
 */
export async function runProgram(
  program: Command,
  argv: string[],
  stderr: Pick<NodeJS.WritableStream, 'write'> = process.stderr,
): Promise<number> {
  try {
    await program.parseAsync(argv)
    return EXIT.ok
  } catch (err) {
    // Commander has already printed its own message (usage errors, --help, --version).
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage
    if (err instanceof ParanoimError) {
      stderr.write(`error: ${err.message}\n`)
      return exitCodeFor(err)
    }
    stderr.write(describeBug(err, ['debug', 'trace'].includes(program.opts().logLevel)))
    return EXIT.unexpected
  }
}

function describeBug(err: unknown, verbose: boolean): string {
  const detail = err instanceof Error ? (verbose ? err.stack : err.message) : String(err)
  return (
    `error: unexpected failure: ${detail}\n` +
    'This is a bug in ParanoIM. Please report it with the command you ran' +
    `${verbose ? '' : ' and the output of the same command with --log-level debug'}.\n`
  )
}
