import { ParanoimError } from '../errors.js'

/**
 * Onion cells (docs/protocol.md "Onion" → "Cells"): what travels between two
 * neighbours of a circuit, as one link payload. Every cell has the same size:
 *
 *   kind (1) = 0xC1 ‖ circuit id (4) ‖ command (1) ‖ sequence (8) ‖ body (1010)
 *
 * The circuit id is link-local (each hop rewrites it); the sequence number
 * keys the hop layers' nonces, so lost or reordered cells never desynchronise
 * a circuit. Integers are big-endian. CREATE, CREATED and DESTROY bodies are
 * plaintext to the link (zero padded, checked); a RELAY body is opaque.
 */
export const CELL_KIND = 0xc1
export const CELL_LENGTH = 1024
export const CELL_HEADER_LENGTH = 14
export const CELL_BODY_LENGTH = CELL_LENGTH - CELL_HEADER_LENGTH
/** Sequence numbers stay exact JavaScript integers. */
export const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER
export const KEY_LENGTH = 32

export const CellCommand = { create: 1, created: 2, relay: 3, destroy: 4 } as const
export type CellCommandName = keyof typeof CellCommand

/** Why a circuit was torn down (DESTROY body); informative only, never trusted. */
export const DestroyReason = {
  none: 0,
  protocol: 1,
  tampered: 2,
  expired: 3,
  limit: 4,
  linkDown: 5,
  extendFailed: 6,
  finished: 7,
} as const

export type OnionWireErrorCode =
  | 'CELL_LENGTH'
  | 'CELL_KIND'
  | 'CELL_CIRCUIT_ID'
  | 'CELL_COMMAND'
  | 'CELL_SEQUENCE'
  | 'CELL_PADDING'
  | 'RELAY_COMMAND'
  | 'RELAY_LENGTH'
  | 'RELAY_FIELD'

/** Onion bytes that do not match their format. The onion decoders throw only this. */
export class OnionWireError extends ParanoimError {
  declare readonly code: OnionWireErrorCode

  constructor(code: OnionWireErrorCode, message: string) {
    super(code, message)
  }
}

export type Cell =
  | { command: 'create'; circuitId: number; sequence: number; nodeKey: Uint8Array; ephemeral: Uint8Array }
  | { command: 'created'; circuitId: number; sequence: number; ephemeral: Uint8Array; auth: Uint8Array }
  | { command: 'relay'; circuitId: number; sequence: number; body: Uint8Array }
  | { command: 'destroy'; circuitId: number; sequence: number; reason: number }

const COMMAND_NAMES = new Map<number, CellCommandName>(
  Object.entries(CellCommand).map(([name, value]) => [value, name as CellCommandName]),
)

export const isValidCircuitId = (id: number): boolean => Number.isInteger(id) && id > 0 && id <= 0xffffffff

function checkHeader(circuitId: number, sequence: number): void {
  if (!isValidCircuitId(circuitId))
    throw new OnionWireError('CELL_CIRCUIT_ID', `circuit id ${circuitId} is not in 1..2^32-1`)
  if (!Number.isInteger(sequence) || sequence < 0 || sequence > MAX_SEQUENCE)
    throw new OnionWireError('CELL_SEQUENCE', `sequence ${sequence} is not in 0..2^53-1`)
}

function checkField(value: Uint8Array, length: number, name: string): void {
  if (value.length !== length)
    throw new OnionWireError('RELAY_FIELD', `${name} must be ${length} bytes, got ${value.length}`)
}

/** One cell, always CELL_LENGTH bytes. */
export function encodeCell(cell: Cell): Uint8Array {
  checkHeader(cell.circuitId, cell.sequence)
  const out = new Uint8Array(CELL_LENGTH)
  const view = new DataView(out.buffer)
  out[0] = CELL_KIND
  view.setUint32(1, cell.circuitId)
  out[5] = CellCommand[cell.command]
  view.setBigUint64(6, BigInt(cell.sequence))
  const body = out.subarray(CELL_HEADER_LENGTH)
  switch (cell.command) {
    case 'create':
      checkField(cell.nodeKey, KEY_LENGTH, 'node key')
      checkField(cell.ephemeral, KEY_LENGTH, 'ephemeral key')
      body.set(cell.nodeKey)
      body.set(cell.ephemeral, KEY_LENGTH)
      break
    case 'created':
      checkField(cell.ephemeral, KEY_LENGTH, 'ephemeral key')
      checkField(cell.auth, KEY_LENGTH, 'auth')
      body.set(cell.ephemeral)
      body.set(cell.auth, KEY_LENGTH)
      break
    case 'relay':
      checkField(cell.body, CELL_BODY_LENGTH, 'relay body')
      body.set(cell.body)
      break
    case 'destroy':
      if (!Number.isInteger(cell.reason) || cell.reason < 0 || cell.reason > 255)
        throw new OnionWireError('RELAY_FIELD', `destroy reason ${cell.reason} is not a byte`)
      body[0] = cell.reason
      break
  }
  return out
}

/** True when a link payload is an onion cell (other layers may share links). */
export const isCell = (payload: Uint8Array): boolean => payload.length > 0 && payload[0] === CELL_KIND

function expectZero(bytes: Uint8Array, what: string): void {
  for (const b of bytes) if (b !== 0) throw new OnionWireError('CELL_PADDING', `${what} padding is not zero`)
}

/** Strict: exact length, known kind and command, valid id and sequence, zero padding. */
export function decodeCell(bytes: Uint8Array): Cell {
  if (bytes.length !== CELL_LENGTH)
    throw new OnionWireError('CELL_LENGTH', `a cell is ${CELL_LENGTH} bytes, got ${bytes.length}`)
  if (bytes[0] !== CELL_KIND)
    throw new OnionWireError('CELL_KIND', `not a cell (kind 0x${bytes[0]!.toString(16)})`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const circuitId = view.getUint32(1)
  const command = COMMAND_NAMES.get(bytes[5]!)
  if (!command) throw new OnionWireError('CELL_COMMAND', `unknown cell command ${bytes[5]}`)
  const big = view.getBigUint64(6)
  if (big > BigInt(MAX_SEQUENCE))
    throw new OnionWireError('CELL_SEQUENCE', `sequence ${big} is beyond 2^53-1`)
  const sequence = Number(big)
  checkHeader(circuitId, sequence)
  const body = bytes.subarray(CELL_HEADER_LENGTH)
  switch (command) {
    case 'create':
      expectZero(body.subarray(2 * KEY_LENGTH), 'CREATE')
      return {
        command,
        circuitId,
        sequence,
        nodeKey: body.slice(0, KEY_LENGTH),
        ephemeral: body.slice(KEY_LENGTH, 2 * KEY_LENGTH),
      }
    case 'created':
      expectZero(body.subarray(2 * KEY_LENGTH), 'CREATED')
      return {
        command,
        circuitId,
        sequence,
        ephemeral: body.slice(0, KEY_LENGTH),
        auth: body.slice(KEY_LENGTH, 2 * KEY_LENGTH),
      }
    case 'relay':
      return { command, circuitId, sequence, body: body.slice() }
    case 'destroy':
      expectZero(body.subarray(1), 'DESTROY')
      return { command, circuitId, sequence, reason: body[0]! }
  }
}
