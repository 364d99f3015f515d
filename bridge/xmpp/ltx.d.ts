// Types for the part of ltx (the XML library under @xmpp/xml) that the XMPP layer uses.
declare module 'ltx' {
  export type Node = Element | string

  export class Element {
    constructor(name: string, attrs?: Record<string, string> | string)
    name: string
    parent: Element | null
    children: Node[]
    attrs: Record<string, string | undefined>
    is(name: string, xmlns?: string): boolean
    getName(): string
    getNS(): string | undefined
    getChild(name: string, xmlns?: string): Element | undefined
    getChildren(name: string, xmlns?: string): Element[]
    getChildElements(): Element[]
    getChildText(name: string, xmlns?: string): string | null
    getText(): string
    c(name: string, attrs?: Record<string, string>): Element
    cnode<T extends Node>(child: T): T
    t(text: string): Element
    up(): Element
    append(...nodes: Node[]): Element
    remove(el: Element | string, xmlns?: string): Element
    attr(name: string): string | undefined
    attr(name: string, value: string | null | undefined): Element
    toString(): string
  }

  export function createElement(
    name: string,
    attrs?: Record<string, string | number | undefined | null> | string | null,
    ...children: Array<Node | Node[] | null | undefined | false>
  ): Element
  export function clone<T extends Element>(el: T): T
  export function parse(text: string): Element
  export function escapeXML(text: string): string
  export function escapeXMLText(text: string): string
}

declare module 'ltx/src/parsers/ltx.js' {
  import type { EventEmitter } from 'node:events'

  /** ltx's SAX tokenizer: emits startElement(name, attrs), endElement(name), text(str); throws on bad entities. */
  export default class SaxLtx extends EventEmitter {
    write(data: string): void
    end(data?: string): void
  }
}
