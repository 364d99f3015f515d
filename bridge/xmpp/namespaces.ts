/** XML namespaces the core speaks; modules keep their own next to their code. */
export const NS = {
  client: 'jabber:client',
  stream: 'http://etherx.jabber.org/streams',
  streams: 'urn:ietf:params:xml:ns:xmpp-streams',
  stanzas: 'urn:ietf:params:xml:ns:xmpp-stanzas',
  tls: 'urn:ietf:params:xml:ns:xmpp-tls',
  sasl: 'urn:ietf:params:xml:ns:xmpp-sasl',
  saslChannelBinding: 'urn:xmpp:sasl-cb:0',
  bind: 'urn:ietf:params:xml:ns:xmpp-bind',
  session: 'urn:ietf:params:xml:ns:xmpp-session',
  roster: 'jabber:iq:roster',
  rosterVersioning: 'urn:xmpp:features:rosterver',
  sm: 'urn:xmpp:sm:3',
  delay: 'urn:xmpp:delay',
} as const
