import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parse } from 'ltx'
import { capsHash } from '../../../bridge/xmpp/modules/caps-hash.js'

// XEP-0115 §5.2, "Simple Generation Example".
const simple = `<query xmlns='http://jabber.org/protocol/disco#info'>
  <identity category='client' name='Exodus 0.9.1' type='pc'/>
  <feature var='http://jabber.org/protocol/caps'/>
  <feature var='http://jabber.org/protocol/disco#info'/>
  <feature var='http://jabber.org/protocol/disco#items'/>
  <feature var='http://jabber.org/protocol/muc'/>
</query>`

// XEP-0115 §5.3, "Complex Generation Example" (two identities, an extension form).
const complex = `<query xmlns='http://jabber.org/protocol/disco#info'
       node='http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w='>
  <identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>
  <identity xml:lang='el' category='client' name='Ψ 0.11' type='pc'/>
  <feature var='http://jabber.org/protocol/caps'/>
  <feature var='http://jabber.org/protocol/disco#info'/>
  <feature var='http://jabber.org/protocol/disco#items'/>
  <feature var='http://jabber.org/protocol/muc'/>
  <x xmlns='jabber:x:data' type='result'>
    <field var='FORM_TYPE' type='hidden'>
      <value>urn:xmpp:dataforms:softwareinfo</value>
    </field>
    <field var='ip_version'>
      <value>ipv4</value>
      <value>ipv6</value>
    </field>
    <field var='os'>
      <value>Mac</value>
    </field>
    <field var='os_version'>
      <value>10.5.1</value>
    </field>
    <field var='software'>
      <value>Psi</value>
    </field>
    <field var='software_version'>
      <value>0.11</value>
    </field>
  </x>
</query>`

test('XEP-0115 §5.2 simple example hashes to QgayPKawpkPSDYmwT/WM94uAlu0=', () => {
  assert.equal(capsHash(parse(simple)), 'QgayPKawpkPSDYmwT/WM94uAlu0=')
})

test('XEP-0115 §5.3 complex example (identities with xml:lang, a form) hashes to q07IKJEyjvHSyhy//CH0CxmKi8w=', () => {
  assert.equal(capsHash(parse(complex)), 'q07IKJEyjvHSyhy//CH0CxmKi8w=')
})

test('the order of identities, features and form values does not change the hash', () => {
  const shuffled = parse(simple)
  shuffled.children = shuffled.getChildElements().reverse()
  assert.equal(capsHash(shuffled), 'QgayPKawpkPSDYmwT/WM94uAlu0=')
})

test('duplicate features are refused (XEP-0115 §5.4 step 3.3)', () => {
  const dup = parse(simple)
  dup.c('feature', { var: 'http://jabber.org/protocol/muc' })
  assert.throws(() => capsHash(dup), /duplicate feature/)
})
