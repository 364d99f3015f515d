import { clone, createElement, type Element } from 'ltx'
import {
  decodeStanzaPayload,
  encodeStanzaPayload,
  type MessagePayload,
  NETWORK_ID_LENGTH,
  PayloadError,
} from '../../wire/stanza-payload.js'
import { buildMessage, hasContent, isChatStateOnly, readMessage } from '../allow-list.js'
import { GatewayError } from '../errors.js'

/**
 * A room message's content as it crosses the network: the same allow-list as
 * one-to-one chat (gateway/allow-list.ts, wire/stanza-payload.ts), so no raw
 * client XML leaves the bridge. References to other messages (receipts,
 * markers, corrections) name client or room ids that mean nothing on other
 * bridges and are dropped; so are chat states alone (undefined: nothing to
 * send). `type`: 'chat' for a private message between occupants.
 */
export function roomPayloadBytes(
  payload: Element[],
  random: (n: number) => Uint8Array,
  type: MessagePayload['type'] = 'normal',
): Uint8Array | undefined {
  const {
    receipt: _r,
    marker: _m,
    replace: _c,
    ...content
  } = readMessage(createElement('message', {}, ...payload.map((el) => clone(el))))
  const message: MessagePayload = {
    kind: 'message',
    ...content,
    type,
    id: random(NETWORK_ID_LENGTH),
  }
  // Typing notifications would be a reliable message to every member: they stay on the bridge.
  if (!hasContent(message) || isChatStateOnly(message)) return undefined
  try {
    return encodeStanzaPayload(message)
  } catch (err) {
    if (err instanceof PayloadError) throw new GatewayError('policy-violation', err.message, { cause: err })
    throw err
  }
}

/** The payload elements of a room message from the network; throws PayloadError when malformed. */
export function roomPayloadElements(bytes: Uint8Array): Element[] {
  return roomMessage(bytes).payload
}

/** A room or private message from the network: its network id (hex, the stanza id) and payload elements. */
export function roomMessage(bytes: Uint8Array): { id: string; payload: Element[] } {
  const payload = decodeStanzaPayload(bytes)
  if (payload.kind !== 'message') throw new PayloadError('PAYLOAD_KIND', 'a room message carries a message')
  const elements = buildMessage({ ...payload, type: 'normal' }, { id: '' }, '', '').getChildElements()
  return { id: Buffer.from(payload.id).toString('hex'), payload: elements }
}
