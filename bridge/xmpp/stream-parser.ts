import { StringDecoder } from 'node:string_decoder'
import { Element } from 'ltx'
import SaxLtx from 'ltx/src/parsers/ltx.js'
import { StreamError } from './errors.js'

export interface StreamParserLimits {
  maxStanzaBytes: number
  /** Deepest nesting, the stream element counting as 1. */
  maxDepth: number
}

export interface StreamParserEvents {
  /** The stream header `<stream:stream …>` (its attributes, no children). */
  onStreamStart(header: Element): void
  /** One complete top-level element: a stanza or a nonza. */
  onElement(element: Element): void
  /** `</stream:stream>`. */
  onStreamEnd(): void
}

// XML Name, restricted to what XMPP vocabularies use; anything else is not forwarded to other clients.
const NAME = /^[A-Za-z_][\w.-]*(:[A-Za-z_][\w.-]*)?$/
const DECLARATION = /^\s*<\?xml\s[^<>]*\?>/
const MAX_DECLARATION = 256

/**
 * A hardened XMPP stream parser on ltx's tokenizer. RFC 6120 §11.1 forbids
 * comments, processing instructions, DTDs and entity references, so `<!` and
 * `<?` (other than one XML declaration at the start) are refused before the
 * tokenizer sees them; that rules out every entity-expansion bomb. Element
 * size and depth are capped while bytes arrive, so memory per connection is
 * bounded. Every violation throws a `StreamError` out of `write()`.
 */
export class StreamParser {
  private readonly decoder = new StringDecoder('utf8')
  private sax = new SaxLtx()
  private depth = 0
  private current: Element | null = null
  private pendingBytes = 0
  private atStreamStart = true
  private head = ''
  private lastWasLt = false
  private failed: StreamError | null = null

  constructor(
    private readonly limits: StreamParserLimits,
    private readonly events: StreamParserEvents,
  ) {
    this.listen()
  }

  /** A new stream after STARTTLS or SASL success (RFC 6120 §4.3.3): a fresh tokenizer, same limits. */
  restart(): void {
    this.sax.removeAllListeners()
    this.sax = new SaxLtx()
    this.depth = 0
    this.current = null
    this.pendingBytes = 0
    this.atStreamStart = true
    this.head = ''
    this.lastWasLt = false
    this.listen()
  }

  write(chunk: Buffer): void {
    if (this.failed) throw this.failed
    this.pendingBytes += chunk.length
    if (this.pendingBytes > this.limits.maxStanzaBytes) {
      this.fail(new StreamError('policy-violation', `stanza larger than ${this.limits.maxStanzaBytes} bytes`))
    }
    let text = this.decoder.write(chunk)
    if (text.includes('\uFFFD')) this.fail(new StreamError('unsupported-encoding', 'invalid UTF-8'))
    if (this.atStreamStart) {
      text = this.skipDeclaration(text)
      if (text === '') return
    }
    this.refuseRestrictedXml(text)
    try {
      this.sax.write(text)
    } catch (err) {
      if (err instanceof StreamError) this.fail(err)
      this.fail(new StreamError('not-well-formed', err instanceof Error ? err.message : 'parse error'))
    }
    if (this.failed) throw this.failed
  }

  /** Holds back the start of a stream until the optional `<?xml …?>` declaration can be recognised and dropped. */
  private skipDeclaration(text: string): string {
    this.head += text
    const trimmed = this.head.trimStart()
    if (trimmed.length < 5 && '<?xml'.startsWith(trimmed)) return ''
    if (trimmed !== '' && !trimmed.startsWith('<'))
      throw this.fail(new StreamError('not-well-formed', 'not an XML stream'))
    this.atStreamStart = false
    const rest = this.head
    this.head = ''
    if (!trimmed.startsWith('<?')) return rest
    const match = DECLARATION.exec(rest)
    if (match) return rest.slice(match[0].length)
    if (rest.length < MAX_DECLARATION && !rest.includes('>')) {
      this.atStreamStart = true
      this.head = rest
      return ''
    }
    throw this.fail(new StreamError('restricted-xml', 'processing instructions are not allowed'))
  }

  private refuseRestrictedXml(text: string): void {
    const first = text.charCodeAt(0)
    const restricted =
      (this.lastWasLt && (first === 0x21 || first === 0x3f)) || text.includes('<!') || text.includes('<?')
    this.lastWasLt = text.endsWith('<')
    if (restricted) {
      this.fail(
        new StreamError(
          'restricted-xml',
          'comments, DTDs, CDATA and processing instructions are not allowed',
        ),
      )
    }
  }

  private listen(): void {
    this.sax.on('startElement', (name: string, attrs: Record<string, string>) => this.start(name, attrs))
    this.sax.on('endElement', (name: string) => this.end(name))
    this.sax.on('text', (text: string) => this.text(text))
  }

  private start(name: string, attrs: Record<string, string>): void {
    if (this.failed) return
    if (!NAME.test(name)) throw new StreamError('not-well-formed', `bad element name ${JSON.stringify(name)}`)
    for (const attr of Object.keys(attrs)) {
      if (!NAME.test(attr))
        throw new StreamError('not-well-formed', `bad attribute name ${JSON.stringify(attr)}`)
    }
    this.depth++
    if (this.depth > this.limits.maxDepth) {
      throw new StreamError('policy-violation', `elements nested deeper than ${this.limits.maxDepth}`)
    }
    if (this.depth === 1) {
      if (name !== 'stream:stream') throw new StreamError('invalid-namespace', 'expected <stream:stream>')
      this.events.onStreamStart(new Element(name, attrs))
      this.pendingBytes = 0
      return
    }
    const element = new Element(name, attrs)
    if (this.current) this.current.cnode(element)
    this.current = element
  }

  private end(name: string): void {
    if (this.failed) return
    if (this.depth === 1) {
      if (name !== 'stream:stream') throw new StreamError('not-well-formed', `</${name}> closes nothing`)
      this.depth = 0
      this.events.onStreamEnd()
      return
    }
    const element = this.current
    if (!element || element.name !== name)
      throw new StreamError('not-well-formed', `</${name}> does not match`)
    this.depth--
    this.current = element.parent
    if (this.depth === 1) {
      element.parent = null
      this.pendingBytes = 0
      this.events.onElement(element)
    }
  }

  private text(text: string): void {
    if (this.failed) return
    if (this.current) {
      this.current.t(text)
      return
    }
    // Between stanzas only whitespace (keepalives) may appear.
    if (text.trim() !== '') throw new StreamError('not-well-formed', 'text outside any stanza')
    this.pendingBytes = 0
  }

  private fail(err: StreamError): never {
    this.failed ??= err
    throw this.failed
  }
}
