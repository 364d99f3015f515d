import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  backupFromFile,
  backupFromQrPayloads,
  backupFromText,
  backupToFile,
  backupToQrPayloads,
  backupToText,
} from '../../bridge/crypto/backup.js'
import { BASE32_ALPHABET } from '../../bridge/crypto/base32.js'
import { BackupError, KeyBlobError } from '../../bridge/crypto/errors.js'
import { generateIdentity } from '../../bridge/crypto/identity.js'
import { openPrivateKey, sealPrivateKey } from '../../bridge/crypto/keyfile.js'

const kdf = { logN: 10, r: 8, p: 1 }
const identity = generateIdentity()
const blob = await sealPrivateKey(identity, 'pw', kdf)
const other = await sealPrivateKey(generateIdentity(), 'pw', kdf)

const backupCode = (fn: () => unknown): string => {
  try {
    fn()
    return 'ok'
  } catch (e) {
    assert.ok(e instanceof BackupError, `not a BackupError: ${String(e)}`)
    return e.code
  }
}

describe('backup text', () => {
  const text = backupToText(blob)
  const lines = text.trimEnd().split('\n')

  it('has a header, numbered lines of 4 groups of 5 plus 2 check characters, and an end line', () => {
    assert.equal(lines[0], 'paranoim key backup v1')
    assert.match(lines[1]!, /^01 {2}[a-z2-7]{5} [a-z2-7]{5} [a-z2-7]{5} [a-z2-7]{5} {2}[a-z2-7]{2}$/)
    assert.match(lines.at(-1)!, /^end {2}11 {2}[a-z2-7]{7}$/)
    assert.equal(lines.length, 13)
  })

  it('restores the same identity', async () => {
    assert.deepEqual(backupFromText(text), blob)
    assert.deepEqual(await openPrivateKey(backupFromText(text), 'pw'), identity)
  })

  it('ignores case, extra whitespace, blank lines, CRLF and the line order', () => {
    const messy = `\r\n  ${lines[0]!.toUpperCase()}\r\n\r\n${[...lines.slice(1, -1)]
      .reverse()
      .map((l) => `\t${l.replace(/ /g, '   ')}  `)
      .join('\r\n')}\r\n${lines.at(-1)}`
    assert.deepEqual(backupFromText(messy), blob)
    const ungrouped = lines.map((l, n) => (n > 0 ? l.replace(/(\S{5}) (?=\S)/g, '$1') : l))
    assert.deepEqual(backupFromText(ungrouped.join('\n')), blob)
  })

  it('locates every single-character typo in a data line (and its check characters)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 11 }),
        fc.nat(),
        fc.integer({ min: 1, max: 31 }),
        (line, at, shift) => {
          const chars = [...lines[line]!]
          const positions = chars.flatMap((c, i) => (i > 3 && c !== ' ' ? [i] : []))
          const i = positions[at % positions.length]!
          chars[i] = BASE32_ALPHABET[(BASE32_ALPHABET.indexOf(chars[i]!) + shift) % 32]!
          const typo = lines.map((l, n) => (n === line ? chars.join('') : l)).join('\n')
          assert.throws(() => backupFromText(typo), {
            code: 'BACKUP_LINE_CHECK',
            message: new RegExp(`^line ${line}: check characters do not match \\(typo in this line\\?\\)`),
          })
        },
      ),
      { numRuns: 400 },
    )
  })

  it('locates every swap of two different adjacent data characters', () => {
    for (let line = 1; line <= 11; line++) {
      const data = lines[line]!.slice(4, -4).replace(/ /g, '')
      for (let i = 0; i + 1 < data.length; i++) {
        if (data[i] === data[i + 1]) continue
        const swapped = data.slice(0, i) + data[i + 1] + data[i] + data.slice(i + 2)
        const typo = lines
          .map((l, n) => (n === line ? `${l.slice(0, 4)}${swapped}${l.slice(-4)}` : l))
          .join('\n')
        assert.throws(() => backupFromText(typo), {
          code: 'BACKUP_LINE_CHECK',
          message: new RegExp(`^line ${line}:`),
        })
      }
    }
  })

  it('reports lines typed under the wrong number, missing, duplicated or malformed', () => {
    const swapNumbers = lines
      .map((l, n) => (n === 2 ? `03${l.slice(2)}` : n === 3 ? `02${l.slice(2)}` : l))
      .join('\n')
    assert.throws(() => backupFromText(swapNumbers), {
      code: 'BACKUP_LINE_CHECK',
      message: /line 2: .*; line 3: /,
    })
    const without = (n: number) => lines.filter((_, i) => i !== n).join('\n')
    assert.throws(() => backupFromText(without(5)), {
      code: 'BACKUP_LINE_MISSING',
      message: /^line 5 missing$/,
    })
    assert.throws(() => backupFromText(without(11)), {
      code: 'BACKUP_LINE_MISSING',
      message: /^line 11 missing$/,
    })
    assert.throws(() => backupFromText(without(12)), {
      code: 'BACKUP_LINE_MISSING',
      message: /last line .* is missing/,
    })
    assert.throws(() => backupFromText([...lines, lines[4]].join('\n')), { code: 'BACKUP_LINE_MALFORMED' })
    const duplicate = [...lines.slice(0, 5), lines[4], ...lines.slice(5)].join('\n')
    assert.throws(() => backupFromText(duplicate), {
      code: 'BACKUP_LINE_DUPLICATE',
      message: /line 4 appears twice/,
    })
    const dropChar = lines
      .map((l, n) => (n === 6 ? l.replace(/ [a-z2-7]{5} /, (g) => ` ${g.slice(2)}`) : l))
      .join('\n')
    assert.throws(() => backupFromText(dropChar), {
      code: 'BACKUP_LINE_MALFORMED',
      message: /^line 6: 19 characters, expected 20/,
    })
    const badChar = lines.map((l, n) => (n === 7 ? `${l.slice(0, 4)}0${l.slice(5)}` : l)).join('\n')
    assert.throws(() => backupFromText(badChar), {
      code: 'BACKUP_LINE_MALFORMED',
      message: /line 7: "0" is not a backup character/,
    })
  })

  it('detects a typo in the end line with the whole-backup CRC-32', () => {
    const end = lines.at(-1)!
    const last = end.at(-1)!
    const typo = [...lines.slice(0, -1), end.slice(0, -1) + (last === 'a' ? 'b' : 'a')].join('\n')
    assert.throws(() => backupFromText(typo), {
      code: 'BACKUP_CHECKSUM',
      message: /checksum in the last line does not match/,
    })
  })

  it('says when the text is not a backup at all', () => {
    for (const notBackup of [
      '',
      'hello\nworld',
      'paranoim key backup v2\n01 aaaaa aa',
      `paranoim key backup v1\n${' '.repeat(70000)}`,
      42 as unknown as string,
    ]) {
      assert.equal(
        backupCode(() => backupFromText(notBackup)),
        'BACKUP_NOT_BACKUP',
      )
    }
    assert.throws(() => backupFromText('hello'), /not a ParanoIM key backup/)
  })

  it('decoding never throws anything but BackupError or KeyBlobError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), fc.nat(), (noise, at) => {
        for (const input of [noise, text.slice(0, at % text.length) + noise + text.slice(at % text.length)]) {
          try {
            backupFromText(input)
          } catch (e) {
            assert.ok(e instanceof BackupError || e instanceof KeyBlobError, String(e))
          }
        }
      }),
      { numRuns: 300 },
    )
  })
})

describe('backup QR payloads', () => {
  const parts = backupToQrPayloads(blob)

  it('are exactly three QR-alphanumeric strings numbered 1/3, 2/3, 3/3', () => {
    assert.equal(parts.length, 3)
    parts.forEach((p, i) => {
      assert.match(p, new RegExp(`^PIM1:${i + 1}/3:[A-Z2-7]{8}:[A-Z2-7]+:[A-Z2-7]{7}$`))
      assert.match(p, /^[0-9A-Z $%*+\-./:]+$/)
    })
  })

  it('restore in any order', () => {
    for (const order of [
      [0, 1, 2],
      [2, 1, 0],
      [1, 2, 0],
    ]) {
      assert.deepEqual(backupFromQrPayloads(order.map((i) => parts[i]!)), blob)
    }
    assert.deepEqual(backupFromQrPayloads(parts.map((p) => ` ${p.toLowerCase()}\n`)), blob)
  })

  it('report a missing, duplicated or corrupted part by number', () => {
    assert.throws(() => backupFromQrPayloads([parts[0], parts[2]]), {
      code: 'BACKUP_QR_MISSING',
      message: /part 2 of 3 is missing/,
    })
    assert.throws(() => backupFromQrPayloads([parts[0], parts[1], parts[1]]), {
      code: 'BACKUP_QR_DUPLICATE',
      message: /part 2 was given twice/,
    })
    const corrupt = parts[2].slice(0, 30) + (parts[2][30] === 'A' ? 'B' : 'A') + parts[2].slice(31)
    assert.throws(() => backupFromQrPayloads([parts[0], parts[1], corrupt]), {
      code: 'BACKUP_QR_CORRUPT',
      message: /^part 3 is corrupted/,
    })
    assert.throws(() => backupFromQrPayloads([parts[0], parts[1], parts[2].slice(0, 12)]), {
      code: 'BACKUP_QR_CORRUPT',
      message: /^part 3 /,
    })
    assert.throws(() => backupFromQrPayloads([]), { code: 'BACKUP_QR_MISSING', message: /part 1 of 3/ })
  })

  it('catch every single-character corruption of any part', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 }),
        fc.nat(),
        fc.integer({ min: 1, max: 31 }),
        (k, at, shift) => {
          const chars = [...parts[k]!]
          const positions = chars.flatMap((c, i) => (/[A-Z2-7]/.test(c) && i > 4 ? [i] : []))
          const i = positions[at % positions.length]!
          chars[i] =
            BASE32_ALPHABET.toUpperCase()[(BASE32_ALPHABET.toUpperCase().indexOf(chars[i]!) + shift) % 32]!
          const changed = parts.map((p, n) => (n === k ? chars.join('') : p))
          assert.notEqual(
            backupCode(() => backupFromQrPayloads(changed)),
            'ok',
          )
        },
      ),
      { numRuns: 300 },
    )
  })

  it('report parts of two different backups', () => {
    const foreign = backupToQrPayloads(other)
    assert.throws(() => backupFromQrPayloads([parts[0], foreign[1], parts[2]]), {
      code: 'BACKUP_QR_MIXED',
      message: /different backups \(part 1 and part 2/,
    })
  })

  it('report a payload that is not ours', () => {
    assert.throws(() => backupFromQrPayloads(['https://example.com', parts[1], parts[2]]), {
      code: 'BACKUP_NOT_BACKUP',
      message: /QR code 1 is not a ParanoIM QR payload/,
    })
    assert.throws(
      () => backupFromQrPayloads([parts[0], `PIM2${parts[1].slice(4)}`, parts[2]]),
      /unsupported backup version/,
    )
    assert.throws(() => backupFromQrPayloads('PIM1' as unknown as string[]), { code: 'BACKUP_NOT_BACKUP' })
  })
})

describe('backup file', () => {
  const file = backupToFile(blob)

  it('is JSON naming format, version, address and KDF, and restores the same blob', () => {
    const parsed = JSON.parse(file)
    assert.equal(parsed.format, 'paranoim-key-backup')
    assert.equal(parsed.version, 1)
    assert.equal(parsed.kdf.name, 'scrypt')
    assert.deepEqual(backupFromFile(file), blob)
  })

  it('reports a wrong format specifically', () => {
    const edit = (patch: Record<string, unknown>) => JSON.stringify({ ...JSON.parse(file), ...patch })
    const cases: [string, RegExp][] = [
      ['not json', /expected a JSON object/],
      ['[1,2]', /expected a JSON object/],
      [edit({ format: 'other' }), /"format" must be "paranoim-key-backup"/],
      [edit({ version: 2 }), /unsupported backup file version 2/],
      [edit({ sealedKey: '***' }), /"sealedKey" must be base64/],
      [edit({ sealedKey: 5 }), /"sealedKey" must be base64/],
      [edit({ address: 'aaaa' }), /"address" does not match/],
      [`${' '.repeat(70000)}{}`, /not a ParanoIM key backup file/],
    ]
    for (const [contents, message] of cases) {
      assert.throws(() => backupFromFile(contents), { code: 'BACKUP_FILE_FORMAT', message })
    }
    assert.throws(() => backupFromFile(edit({ sealedKey: 'AAAA' })), KeyBlobError)
  })
})

describe('backup encoders', () => {
  it('refuse something that is not a sealed key', () => {
    for (const encode of [backupToText, backupToQrPayloads, backupToFile]) {
      assert.throws(() => encode(new Uint8Array(10)), KeyBlobError)
    }
  })
})
