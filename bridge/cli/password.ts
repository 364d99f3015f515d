import { readFile } from 'node:fs/promises'
import { FileError, UsageError } from './errors.js'

/** Where a command takes its password from; without either option, an interactive prompt. */
export interface PasswordOptions {
  passwordFile?: string
  passwordStdin?: boolean
}

/** Only the line ending a file or pipe adds; other whitespace may be part of the password. */
const withoutFinalNewline = (text: string) => text.replace(/\r?\n$/, '')

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Reads one line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  const { stdin, stderr } = process
  return new Promise((resolve, reject) => {
    let typed = ''
    const finish = (outcome: () => void) => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      stderr.write('\n')
      outcome()
    }
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return finish(() => resolve(typed))
        if (char === '\u0003' || char === '\u0004') return finish(() => reject(new UsageError('cancelled')))
        typed = char === '\u007f' || char === '\b' ? Array.from(typed).slice(0, -1).join('') : typed + char
      }
    }
    stderr.write(question)
    stdin.setEncoding('utf8')
    stdin.setRawMode(true)
    stdin.resume()
    stdin.on('data', onData)
  })
}

/**
 * The password for this command. `confirm` asks twice at the prompt (for a
 * new password); files and stdin are taken as given.
 */
export async function readPassword(
  options: PasswordOptions,
  { confirm = false, prompt = 'Password: ' } = {},
): Promise<string> {
  if (options.passwordFile && options.passwordStdin) {
    throw new UsageError('give either --password-file or --password-stdin, not both')
  }
  if (options.passwordFile) {
    try {
      return withoutFinalNewline(await readFile(options.passwordFile, 'utf8'))
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err)
      throw new FileError(`cannot read password file ${options.passwordFile}: ${code}`, { cause: err })
    }
  }
  if (options.passwordStdin) return withoutFinalNewline(await readStdin())
  if (!process.stdin.isTTY) {
    throw new UsageError('no terminal to ask the password on; use --password-file FILE or --password-stdin')
  }
  const password = await promptHidden(prompt)
  if (confirm && (await promptHidden(`${prompt.replace(/: $/, '')} again: `)) !== password) {
    throw new UsageError('the two passwords differ')
  }
  return password
}
