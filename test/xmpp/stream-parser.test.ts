import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Element } from 'ltx'
import { StreamError } from '../../bridge/xmpp/errors.js'
import { StreamParser } from '../../bridge/xmpp/stream-parser.js'

const HEADER = `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='x' version='1.0'>`

function parse(chunks: (string | Buffer)[], limits = { maxStanzaBytes: 4096, maxDepth: 8 }) {
  const elements: Element[] = []
  let started = false
  let ended = false
  const parser = new StreamParser(limits, {
    onStreamStart: () => {
      started = true
    },
    onElement: (el) => elements.push(el),
    onStreamEnd: () => {
      ended = true
    },
  })
  let error: StreamError | undefined
  for (const chunk of chunks) {
    try {
      parser.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
    } catch (err) {
      assert.ok(err instanceof StreamError, `not a StreamError: ${err}`)
      error = err
      break
    }
  }
  return { elements, started, ended, condition: error?.condition }
}

test('stanzas split anywhere across chunks come out whole, with the declaration skipped', () => {
  const text = `<?xml version='1.0'?>${HEADER}<message to='a@b'><body>x &amp; y</body></message> <iq id='1'/></stream:stream>`
  for (let cut = 1; cut < text.length; cut++) {
    const { elements, started, ended, condition } = parse([text.slice(0, cut), text.slice(cut)])
    assert.equal(condition, undefined, `cut at ${cut}`)
    assert.ok(started && ended)
    assert.deepEqual(elements.map(String), [
      `<message to="a@b"><body>x &amp; y</body></message>`,
      `<iq id="1"/>`,
    ])
  }
})

test('multi-byte UTF-8 split across chunks survives', () => {
  const bytes = Buffer.from(`${HEADER}<message><body>héllo 🌍</body></message>`)
  const parser = (() => {
    const got: Element[] = []
    const p = new StreamParser(
      { maxStanzaBytes: 4096, maxDepth: 8 },
      { onStreamStart() {}, onElement: (el) => got.push(el), onStreamEnd() {} },
    )
    return { p, got }
  })()
  for (const byte of bytes) parser.p.write(Buffer.from([byte]))
  assert.equal(parser.got[0]!.getChildText('body'), 'héllo 🌍')
})

test('RFC 6120 §11.1 restricted XML is refused before the tokenizer sees it, even split across chunks', () => {
  const cases = [
    `<!DOCTYPE lolz [<!ENTITY lol "lol">]>`,
    `<!-- hi -->`,
    `<?php evil ?>`,
    `<message><![CDATA[x]]></message>`,
  ]
  for (const bad of cases) {
    assert.equal(parse([HEADER + bad]).condition, 'restricted-xml', bad)
    const at = HEADER.length + 1
    const whole = HEADER + bad
    assert.equal(parse([whole.slice(0, at), whole.slice(at)]).condition, 'restricted-xml', `split ${bad}`)
  }
  assert.equal(parse([`<?xml version='1.0'?><?xml version='1.0'?>${HEADER}`]).condition, 'restricted-xml')
  assert.equal(parse([`<!DOCTYPE x>${HEADER}`]).condition, 'restricted-xml')
})

test('limits: depth and size are policy violations; bad XML is not-well-formed', () => {
  const deep = '<a>'.repeat(8)
  assert.equal(parse([HEADER + deep]).condition, 'policy-violation')
  assert.equal(parse([HEADER + '<a>'.repeat(6)]).condition, undefined)
  assert.equal(
    parse([HEADER + `<message><body>${'x'.repeat(5000)}</body></message>`]).condition,
    'policy-violation',
  )
  const chunks = [HEADER, '<message><body>', ...Array.from({ length: 10 }, () => 'y'.repeat(500))]
  assert.equal(parse(chunks).condition, 'policy-violation', 'slowly growing stanza')
  // Many small stanzas and whitespace keepalives never add up to a violation.
  const many = [HEADER, ...Array.from({ length: 200 }, () => `<presence/> `)]
  assert.equal(parse(many).condition, undefined)
  for (const bad of [
    '<a></b>',
    '</a>',
    '<a b="&bogus;"/>',
    'text at stream level<a/>',
    '<a"b/>',
    '<a x"y="1"/>',
    '<message>&#0;</message>',
  ]) {
    assert.equal(parse([HEADER + bad]).condition, 'not-well-formed', bad)
  }
  assert.equal(parse(['<message/>']).condition, 'invalid-namespace')
  assert.equal(parse([HEADER, Buffer.from([0x3c, 0x61, 0xff, 0xfe, 0x3e])]).condition, 'unsupported-encoding')
})

test('after a failure the parser keeps refusing', () => {
  const parser = new StreamParser(
    { maxStanzaBytes: 4096, maxDepth: 8 },
    { onStreamStart() {}, onElement() {}, onStreamEnd() {} },
  )
  assert.throws(() => parser.write(Buffer.from(`${HEADER}<!--`)), StreamError)
  assert.throws(() => parser.write(Buffer.from('<message/>')), StreamError)
})
