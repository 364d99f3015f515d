import { createHash } from 'node:crypto'
import type { TLSSocket } from 'node:tls'
import type { ChannelBindings } from './sasl/scram.js'

/**
 * Channel bindings of a TLS connection for SCRAM-*-PLUS: tls-exporter (RFC 9266,
 * TLS 1.3 only, where it is safe without extra extensions) and
 * tls-server-end-point (RFC 5929 §4: the hash of our certificate; SHA-256 as
 * our certificates are signed with SHA-256).
 */
export function tlsChannelBindings(socket: TLSSocket, certificateDer: Uint8Array): ChannelBindings {
  const tls13 = socket.getProtocol() === 'TLSv1.3'
  return {
    types: tls13 ? ['tls-exporter', 'tls-server-end-point'] : ['tls-server-end-point'],
    data(type) {
      if (type === 'tls-exporter' && tls13) {
        return socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0))
      }
      if (type === 'tls-server-end-point') return createHash('sha256').update(certificateDer).digest()
      return undefined
    },
  }
}
