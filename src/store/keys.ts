/**
 * Key rules shared by every Datastore backend, so that they agree on what a valid key is and
 * on the order `query()` returns keys in.
 *
 * Order is Unicode code point order, which is also the byte order of the keys' UTF-8 encoding
 * (what SQLite's BINARY collation compares). JavaScript's `<` on strings compares UTF-16 code
 * units instead, which disagrees for characters above U+FFFF, hence `compareKeys`.
 */
import { InvalidParametersError } from '../util/errors.ts'

/** Longest key accepted, in UTF-16 code units. */
export const MAX_KEY_LENGTH = 4096

/** Throws InvalidParametersError unless `key` is a well-formed, bounded string. */
export function assertValidKey (key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new InvalidParametersError('a datastore key must be a string')
  if (key.length > MAX_KEY_LENGTH) throw new InvalidParametersError(`a datastore key is limited to ${MAX_KEY_LENGTH} characters`)
  // Lone surrogates cannot be encoded as UTF-8: a disk backend would silently store a different key.
  if (!(key as string & { isWellFormed(): boolean }).isWellFormed()) throw new InvalidParametersError('a datastore key must be well-formed Unicode')
}

export function assertValidValue (value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new InvalidParametersError('a datastore value must be a Uint8Array')
}

/** Code point order (= UTF-8 byte order). */
export function compareKeys (a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) {
      // Surrogates (D800-DFFF) encode code points above FFFF, so they sort after E000-FFFF.
      const xs = x >= 0xd800 ? (x < 0xe000 ? x + 0x2000 : x - 0x800) : x
      const ys = y >= 0xd800 ? (y < 0xe000 ? y + 0x2000 : y - 0x800) : y
      return xs - ys
    }
  }
  return a.length - b.length
}

/**
 * The smallest string greater than every string that starts with `prefix` (in code point
 * order), or undefined when no such bound exists. Lets a range scan `key >= prefix AND
 * key < bound` use the primary-key index instead of testing every row.
 */
export function prefixUpperBound (prefix: string): string | undefined {
  const codePoints = Array.from(prefix)
  while (codePoints.length > 0) {
    const last = codePoints.pop() as string
    let next = (last.codePointAt(0) as number) + 1
    if (next === 0xd800) next = 0xe000
    if (next <= 0x10ffff) return codePoints.join('') + String.fromCodePoint(next)
  }
  return undefined
}
