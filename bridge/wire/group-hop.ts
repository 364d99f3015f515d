import { GroupWireError } from './group-bytes.js'
import { GROUP_BODY_MAGIC } from './group-control.js'
import { MIN_FANOUT_PACKET } from './group-fanout.js'

/**
 * One fan-out hop as a pairwise messenger body (docs/protocol.md "Groups" →
 * "Fan-out hops"): a group body of type 16 (of the range 16..31 the group
 * protocol leaves to the fan-out) around one fan-out packet.
 *
 *   0x67 ‖ 0x10 ‖ fan-out packet (bridge/wire/group-fanout.ts)
 *
 * The packet itself is decoded (and its origin's signature checked) by the
 * fan-out node; here only the framing is.
 */
export const GROUP_HOP_TYPE = 0x10

/** Whether a group body (isGroupControl) is a fan-out hop rather than a group control body. */
export const isGroupHop = (body: Uint8Array): boolean =>
  body.length >= 2 && body[0] === GROUP_BODY_MAGIC && body[1] === GROUP_HOP_TYPE

export function encodeGroupHop(packet: Uint8Array): Uint8Array {
  if (packet.length < MIN_FANOUT_PACKET)
    throw new GroupWireError('GROUP_LENGTH', `a fan-out packet of ${packet.length} bytes is too short`)
  const out = new Uint8Array(2 + packet.length)
  out[0] = GROUP_BODY_MAGIC
  out[1] = GROUP_HOP_TYPE
  out.set(packet, 2)
  return out
}

/** The packet of a hop body; throws GroupWireError when the framing is wrong or the packet too short. */
export function decodeGroupHop(body: Uint8Array): Uint8Array {
  if (!isGroupHop(body)) throw new GroupWireError('GROUP_TYPE', 'not a fan-out hop body')
  if (body.length < 2 + MIN_FANOUT_PACKET)
    throw new GroupWireError('GROUP_LENGTH', `a fan-out hop of ${body.length} bytes is too short`)
  return body.subarray(2)
}
