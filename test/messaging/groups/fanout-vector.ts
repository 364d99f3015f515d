import { readFileSync } from 'node:fs'
import { identityFromSeed } from '../../../bridge/crypto/identity.js'
import { onlineBitmap } from '../../../bridge/messaging/groups/fanout.js'
import type { FanoutFields } from '../../../bridge/wire/group-fanout.js'

const protocol = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8')

/** The hex of the code block after `marker` in docs/protocol.md: the first word of each line. */
export function protocolHex(marker: string): string {
  const start = protocol.indexOf('```', protocol.indexOf(marker)) + 3
  return protocol
    .slice(start, protocol.indexOf('```', start))
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .join('')
}

/** The inputs of docs/protocol.md "Fan-out packet vector": origin = the RFC 8032 TEST 1 seed. */
export const VECTOR_ORIGIN = identityFromSeed(
  Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex'),
)
export const VECTOR_FIELDS: FanoutFields = {
  width: 10,
  groupId: new Uint8Array(32).fill(0x11),
  messageId: Uint8Array.from({ length: 16 }, (_, i) => i),
  timestamp: 1_800_000_000_000,
  stateVersion: 7,
  memberCount: 12,
  online: onlineBitmap(12, (i) => i !== 3 && i !== 10),
  inner: new TextEncoder().encode('sealed group message'),
}
