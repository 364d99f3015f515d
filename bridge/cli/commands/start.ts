import type { Command } from 'commander'
import { startWebUi } from '../../../webui/server/server.js'
import { createBridge } from '../../service/bridge.js'
import { loadContext, withStore } from '../context.js'
import { nextSignal } from '../signals.js'

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('run the bridge until interrupted (Ctrl-C or SIGTERM)')
    .action(async (_options, command: Command) => {
      const context = loadContext(command)
      await withStore(context, async (store) => {
        const bridge = createBridge(context.config, { log: context.log, store })
        await bridge.start()
        const webui = context.config.webui.enabled
          ? await startWebUi({ config: context.config, bridge, log: context.log })
          : null
        context.log.info(
          { dataDir: context.dataDir, webui: webui?.url },
          'bridge running; stop it with Ctrl-C',
        )
        const signal = await nextSignal()
        context.log.info({ signal }, 'stopping')
        await webui?.stop()
        await bridge.stop()
      })
    })
}
