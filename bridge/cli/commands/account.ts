import type { Command } from 'commander'
import { IdentityService } from '../../service/identities.js'
import { loadContext, withStore } from '../context.js'
import { type PasswordOptions, readPassword } from '../password.js'

interface PasswdOptions extends PasswordOptions {
  currentPasswordFile?: string
}

/** `paranoim account …`: the XMPP accounts, one per identity. */
export function registerAccountCommands(program: Command): void {
  const account = program.command('account').description('XMPP accounts (one per identity)')

  account
    .command('passwd')
    .description(
      'change the password of an identity: its key at rest, its XMPP account and its login unlock ' +
        '(asks the current one, then the new one twice); backups made before keep the old password',
    )
    .argument('<nickname>')
    .option('--current-password-file <file>', 'read the current password from this file (for scripts)')
    .option('--password-file <file>', 'read the new password from this file (for scripts)')
    .option('--password-stdin', 'read the new password from standard input (for scripts)')
    .action(async (nickname: string, options: PasswdOptions, command: Command) => {
      const context = loadContext(command)
      await withStore(context, async (store) => {
        const identities = new IdentityService({ store, kdf: context.config.identity.kdf, log: context.log })
        // Only identities have accounts: fails with IDENTITY_NOT_FOUND before asking for a password.
        await identities.get(nickname)
        const current = await readPassword(
          options.currentPasswordFile ? { passwordFile: options.currentPasswordFile } : {},
          { prompt: 'Current password: ' },
        )
        const next = await readPassword(options, { confirm: true, prompt: 'New password: ' })
        await identities.changePassword(nickname, current, next)
      })
      process.stdout.write(`password of ${nickname}@${context.config.xmpp.domain} changed\n`)
    })
}
