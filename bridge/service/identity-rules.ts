/**
 * The rules for a local identity, shared by the CLI, the bridge and the web UI
 * (no Node imports here, so browser code can use them too).
 */

/** A nickname is the identity's XMPP localpart: lowercase, unique per bridge. */
export const NICKNAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,31}$/

/** The password seals the private key and is the XMPP password; shorter ones are refused. */
export const MIN_PASSWORD_LENGTH = 8

/** Why a nickname is refused, or null when it is valid. */
export function nicknameProblem(nickname: string): string | null {
  if (NICKNAME_PATTERN.test(nickname)) return null
  if (nickname.length === 0 || nickname.length > 32) return 'a nickname has 1 to 32 characters'
  if (nickname !== nickname.toLowerCase()) return `a nickname is lowercase (try "${nickname.toLowerCase()}")`
  return 'a nickname uses only a-z, 0-9, ".", "_" and "-", and starts with a letter or digit'
}
