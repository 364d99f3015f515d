import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { crc10, crc16CcittFalse, crc32 } from '../../bridge/crypto/crc.js'
import { utf8 } from './helpers.js'

// Check values of the CRC catalogue (reveng.sourceforge.io), over ASCII "123456789".
describe('CRC check values', () => {
  it('CRC-16/CCITT-FALSE = 0x29B1', () => assert.equal(crc16CcittFalse(utf8('123456789')), 0x29b1))
  it('CRC-10/ATM = 0x199', () => assert.equal(crc10(utf8('123456789'), 8), 0x199))
  it('CRC-32/ISO-HDLC = 0xCBF43926', () => assert.equal(crc32(utf8('123456789')), 0xcbf43926))
})
