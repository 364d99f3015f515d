import type { Command } from 'commander'
import { IdentityService } from '../../service/identities.js'
import { MIN_PASSWORD_LENGTH } from '../../service/identity-rules.js'
import { setAccountPassword } from '../../xmpp/accounts.js'
import { loadContext, withStore } from '../context.js'
import { UsageError } from '../errors.js'
import { type PasswordOptions, readPassword } from '../password.js'

/** `paranoim account …`: the XMPP accounts, one per identity. */
export function registerAccountCommands(program: Command): void {
  const account = program.command('account').description('XMPP accounts (one per identity)')

  account
    .command('passwd')
    .description(
      'set the XMPP password of an identity’s account (asks twice); the key at rest keeps its own password',
    )
    .argument('<nickname>')
    .option('--password-file <file>', 'read the new password from this file (for scripts)')
    .option('--password-stdin', 'read the new password from standard input (for scripts)')
    .action(async (nickname: string, options: PasswordOptions, command: Command) => {
      const context = loadContext(command)
      await withStore(context, async (store) => {
        // Only identities have accounts: fails with IDENTITY_NOT_FOUND before asking for a password.
        await new IdentityService({ store, kdf: context.config.identity.kdf, log: context.log }).get(nickname)
        const password = await readPassword(options, { confirm: true })
        if (password.length < MIN_PASSWORD_LENGTH) {
          throw new UsageError(`the password needs at least ${MIN_PASSWORD_LENGTH} characters`)
        }
        await setAccountPassword(store, nickname, password)
      })
      process.stdout.write(`XMPP password of ${nickname}@${context.config.xmpp.domain} changed\n`)
    })
}
