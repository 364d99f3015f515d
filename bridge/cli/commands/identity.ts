import { join } from 'node:path'
import { type Command, Option } from 'commander'
import {
  type Backup,
  type BackupFormat,
  IdentityService,
  sealedKeyFromBackup,
} from '../../service/identities.js'
import { formatTable } from '../../text-table.js'
import { type CliContext, loadContext, withStore } from '../context.js'
import { UsageError } from '../errors.js'
import { makePrivateDir, readInputFile, writeNewPrivateFile } from '../files.js'
import { type PasswordOptions, readPassword } from '../password.js'
import { decodeQrPng, isPng, renderQrPng } from '../qr-png.js'

function print(text: string): void {
  process.stdout.write(`${text}\n`)
}

function withPasswordOptions(command: Command): Command {
  return command
    .option('--password-file <file>', 'read the password from this file (for scripts)')
    .option('--password-stdin', 'read the password from standard input (for scripts)')
}

function withIdentities<T>(
  context: CliContext,
  task: (identities: IdentityService) => Promise<T>,
): Promise<T> {
  return withStore(context, (store) =>
    task(new IdentityService({ store, kdf: context.config.identity.kdf, log: context.log })),
  )
}

async function writeBackup(backup: Backup, out: string | undefined): Promise<void> {
  if (backup.format === 'text' && out === undefined) return print(backup.text.trimEnd())
  if (out === undefined) throw new UsageError(`--format ${backup.format} needs --out PATH`)
  if (backup.format !== 'qr') {
    await writeNewPrivateFile(out, backup.format === 'text' ? backup.text : backup.contents)
    return print(`wrote ${out}`)
  }
  await makePrivateDir(out)
  for (const [i, payload] of backup.payloads.entries()) {
    await writeNewPrivateFile(join(out, `part-${i + 1}.txt`), `${payload}\n`)
    await writeNewPrivateFile(join(out, `part-${i + 1}.png`), await renderQrPng(payload))
  }
  print(`wrote part-1…${backup.payloads.length} (.txt payloads and .png QR codes) to ${out}`)
}

interface ImportSources {
  text?: string
  qr?: string[]
  file?: string
}

/** A QR part given as a PNG image or as the payload text itself. */
async function readQrPart(path: string): Promise<string> {
  const bytes = await readInputFile(path)
  return isPng(bytes) ? decodeQrPng(bytes, path) : bytes.toString('utf8').trim()
}

async function readBackup({ text, qr, file }: ImportSources): Promise<Backup> {
  const given = [text, qr, file].filter((source) => source !== undefined).length
  if (given !== 1) throw new UsageError('give exactly one of --text FILE, --qr FILE..., --file FILE')
  if (text !== undefined) return { format: 'text', text: (await readInputFile(text)).toString('utf8') }
  if (file !== undefined) return { format: 'file', contents: (await readInputFile(file)).toString('utf8') }
  return { format: 'qr', payloads: await Promise.all((qr ?? []).map(readQrPart)) }
}

export function registerIdentityCommands(program: Command): void {
  const identity = program
    .command('identity')
    .description('create, list, back up, restore and delete identities')

  withPasswordOptions(
    identity
      .command('create')
      .description('create an identity; asks for its password twice (it also becomes the XMPP password)')
      .requiredOption('--nickname <name>', 'local name and XMPP account: a-z 0-9 . _ -, up to 32'),
  ).action(async (options: PasswordOptions & { nickname: string }, command: Command) => {
    const context = loadContext(command)
    const created = await withIdentities(context, async (identities) =>
      identities.create(options.nickname, await readPassword(options, { confirm: true })),
    )
    print(`created identity ${created.nickname}\naddress: ${created.address}`)
  })

  identity
    .command('list')
    .description('list the identities of this data dir')
    .action(async (_options, command: Command) => {
      const list = await withIdentities(loadContext(command), (identities) => identities.list())
      if (list.length === 0) return print('no identities yet (create one with: paranoim identity create)')
      const rows = list.map((i) => [i.nickname, i.address, new Date(i.createdAt).toISOString()])
      print(formatTable(['NICKNAME', 'ADDRESS', 'CREATED'], rows, { rule: false }))
    })

  withPasswordOptions(
    identity
      .command('export')
      .description('back up an identity; asks for its password to make sure the backup can be opened')
      .argument('<nickname>')
      .addOption(
        new Option('--format <format>', 'backup form').choices(['text', 'qr', 'file']).default('text'),
      )
      .option('--out <path>', 'text: file (default: print); qr: directory for part-N.txt/.png; file: file'),
  ).action(
    async (
      nickname: string,
      options: PasswordOptions & { format: BackupFormat; out?: string },
      command: Command,
    ) => {
      const context = loadContext(command)
      const backup = await withIdentities(context, async (identities) => {
        await identities.get(nickname) // before asking a password for nothing
        return identities.exportBackup(nickname, await readPassword(options), options.format)
      })
      await writeBackup(backup, options.out)
    },
  )

  withPasswordOptions(
    identity
      .command('import')
      .description('restore an identity from a backup; asks for the backup password')
      .requiredOption('--nickname <name>', 'local name to give it')
      .option('--text <file>', 'the printable text backup')
      .option('--qr <files...>', 'the three QR parts: PNG images or payload text files, any order')
      .option('--file <file>', 'the backup file'),
  ).action(async (options: PasswordOptions & ImportSources & { nickname: string }, command: Command) => {
    const context = loadContext(command)
    // A damaged backup is reported before a password is asked for.
    const sealedKey = sealedKeyFromBackup(await readBackup(options))
    const restored = await withIdentities(context, async (identities) =>
      identities.importSealedKey(options.nickname, sealedKey, await readPassword(options)),
    )
    print(`imported identity ${restored.nickname}\naddress: ${restored.address}`)
  })

  identity
    .command('delete')
    .description('delete an identity and its private key')
    .argument('<nickname>')
    .option('--yes', 'confirm: the key is gone for good unless you have a backup')
    .action(async (nickname: string, options: { yes?: boolean }, command: Command) => {
      if (!options.yes) {
        throw new UsageError(
          `deleting "${nickname}" destroys its private key for good; back it up first ` +
            '(paranoim identity export), then add --yes',
        )
      }
      const deleted = await withIdentities(loadContext(command), (identities) =>
        identities.delete(nickname, { confirmed: true }),
      )
      print(`deleted identity ${deleted.nickname} (${deleted.address})`)
    })
}
