/**
 * A small, bounded XML reader for what UPnP devices send: device descriptions and SOAP
 * envelopes. It builds a tree of elements (local names, namespace prefixes dropped) with their
 * text, and refuses everything a hostile router could use against us: input past `maxBytes`,
 * nesting past `maxDepth`, more than `maxElements` elements, DOCTYPE (so no entity expansion),
 * unknown entities, unbalanced tags. Each refusal is an InvalidMessageError or
 * MessageTooLargeError; nothing here allocates more than a bounded multiple of the input.
 * Attributes are skipped (UPnP puts nothing we need in them). Browser-safe.
 */
import { InvalidMessageError, MessageTooLargeError } from '../../util/errors.ts'

export interface XmlElement {
  /** The local name: `s:Envelope` becomes `Envelope`. */
  readonly name: string
  readonly children: XmlElement[]
  /** The element's own text (entities decoded, CDATA included), not its children's. */
  text: string
}

export interface XmlLimits {
  /** Characters of input at most. */
  maxBytes: number
  /** Elements nested at most. */
  maxDepth: number
  /** Elements in the document at most. */
  maxElements: number
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxBytes: 64 * 1024, maxDepth: 16, maxElements: 2000 }

const NAMED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }

/** Parses `text` into its root element; throws InvalidMessageError / MessageTooLargeError. */
export function parseXml (text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlElement {
  if (text.length > limits.maxBytes) throw new MessageTooLargeError(`XML document of ${text.length} characters exceeds ${limits.maxBytes}`)
  const stack: XmlElement[] = []
  let root: XmlElement | undefined
  let elements = 0
  let i = 0
  const n = text.length
  while (i < n) {
    const lt = text.indexOf('<', i)
    const textEnd = lt < 0 ? n : lt
    if (textEnd > i) appendText(stack, text.slice(i, textEnd), root !== undefined)
    if (lt < 0) break
    if (text.startsWith('<?', lt)) {
      i = skipPast(text, lt, '?>')
    } else if (text.startsWith('<!--', lt)) {
      i = skipPast(text, lt, '-->')
    } else if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt + 9)
      if (end < 0) throw new InvalidMessageError('XML: unterminated CDATA section')
      if (stack.length === 0) throw new InvalidMessageError('XML: CDATA outside the root element')
      stack[stack.length - 1].text += text.slice(lt + 9, end)
      i = end + 3
    } else if (text.startsWith('<!', lt)) {
      throw new InvalidMessageError('XML: DOCTYPE and declarations are not accepted')
    } else if (text.startsWith('</', lt)) {
      const gt = text.indexOf('>', lt)
      if (gt < 0) throw new InvalidMessageError('XML: unterminated end tag')
      const name = localName(text.slice(lt + 2, gt).trim())
      const open = stack.pop()
      if (open === undefined || open.name !== name) throw new InvalidMessageError(`XML: end tag </${name}> does not close <${open?.name ?? ''}>`)
      i = gt + 1
    } else {
      const { end, name, selfClosing } = readStartTag(text, lt)
      if (++elements > limits.maxElements) throw new MessageTooLargeError(`XML: more than ${limits.maxElements} elements`)
      if (stack.length >= limits.maxDepth) throw new MessageTooLargeError(`XML: nested deeper than ${limits.maxDepth}`)
      const element: XmlElement = { name, children: [], text: '' }
      if (stack.length > 0) stack[stack.length - 1].children.push(element)
      else if (root === undefined) root = element
      else throw new InvalidMessageError('XML: more than one root element')
      if (!selfClosing) stack.push(element)
      i = end
    }
  }
  if (root === undefined) throw new InvalidMessageError('XML: no root element')
  if (stack.length > 0) throw new InvalidMessageError(`XML: <${stack[stack.length - 1].name}> is never closed`)
  return root
}

function skipPast (text: string, from: number, terminator: string): number {
  const end = text.indexOf(terminator, from)
  if (end < 0) throw new InvalidMessageError(`XML: missing '${terminator}'`)
  return end + terminator.length
}

function localName (qualified: string): string {
  if (qualified.length === 0 || /[\s<>&"'/=]/.test(qualified)) throw new InvalidMessageError('XML: bad element name')
  const colon = qualified.indexOf(':')
  return colon >= 0 ? qualified.slice(colon + 1) : qualified
}

/** Reads `<name attr="v" ...>` starting at `lt`; attribute values may hold '>' inside quotes. */
function readStartTag (text: string, lt: number): { end: number, name: string, selfClosing: boolean } {
  let j = lt + 1
  while (j < text.length && !/[\s/>]/.test(text[j])) j++
  const name = localName(text.slice(lt + 1, j))
  let quote = ''
  for (; j < text.length; j++) {
    const c = text[j]
    if (quote !== '') {
      if (c === quote) quote = ''
    } else if (c === '"' || c === "'") {
      quote = c
    } else if (c === '<') {
      throw new InvalidMessageError('XML: "<" inside a tag')
    } else if (c === '>') {
      return { end: j + 1, name, selfClosing: text[j - 1] === '/' }
    }
  }
  throw new InvalidMessageError('XML: unterminated start tag')
}

function appendText (stack: XmlElement[], raw: string, afterRoot: boolean): void {
  if (stack.length === 0) {
    if (raw.trim() !== '') throw new InvalidMessageError(afterRoot ? 'XML: text after the root element' : 'XML: text before the root element')
    return
  }
  stack[stack.length - 1].text += decodeEntities(raw)
}

function decodeEntities (raw: string): string {
  if (!raw.includes('&')) return raw
  return raw.replace(/&([^;&\s]{0,10});?/g, (whole, body: string) => {
    if (!whole.endsWith(';')) throw new InvalidMessageError('XML: unterminated entity')
    const named = NAMED_ENTITIES[body]
    if (named !== undefined) return named
    const code = body.startsWith('#x') ? parseInt(body.slice(2), 16) : body.startsWith('#') ? Number(body.slice(1)) : NaN
    if (!Number.isInteger(code) || code < 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw new InvalidMessageError(`XML: unknown entity &${body};`)
    return String.fromCodePoint(code)
  })
}

/** The first direct child named `name`, if any. */
export function childNamed (element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find(c => c.name === name)
}

/** The trimmed text of the first direct child named `name`, if any. */
export function childText (element: XmlElement, name: string): string | undefined {
  return childNamed(element, name)?.text.trim()
}

/** Every element named `name` under `element` (depth first, document order). */
export function descendantsNamed (element: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = []
  const walk = (e: XmlElement): void => {
    for (const c of e.children) {
      if (c.name === name) out.push(c)
      walk(c)
    }
  }
  walk(element)
  return out
}
