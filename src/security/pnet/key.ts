/**
 * The private network key file of pnet/Private-Networks-PSK-V1.md: a path-based multicodec
 * `/key/swarm/psk/1.0.0/`, then the encoding of the rest (`/base16/`, `/base64/` or `/bin/`),
 * then the 256-bit key, one per line:
 *
 * ```
 * /key/swarm/psk/1.0.0/
 * /base16/
 * 0123...cdef
 * ```
 */
import { randomBytes } from '../../crypto/index.ts'
import { InvalidPreSharedKeyError } from './errors.ts'

export const PSK_CODEC = '/key/swarm/psk/1.0.0/'
export const PSK_LENGTH = 32
/** Key files are tiny; anything larger is not one (and is not read further). */
export const MAX_PSK_FILE_LENGTH = 1024

export type PskEncoding = 'base16' | 'base64' | 'bin'

const NEWLINE = 0x0a

/** The 32-byte key from the bytes of a key file. Throws InvalidPreSharedKeyError. */
export function decodePreSharedKey (file: Uint8Array): Uint8Array {
  if (file.length > MAX_PSK_FILE_LENGTH) throw new InvalidPreSharedKeyError(`a key file of ${file.length} bytes exceeds ${MAX_PSK_FILE_LENGTH}`)
  const first = file.indexOf(NEWLINE)
  const second = first === -1 ? -1 : file.indexOf(NEWLINE, first + 1)
  if (second === -1) throw new InvalidPreSharedKeyError('a key file has a codec line, an encoding line and the key')
  const line = (from: number, to: number): string => new TextDecoder().decode(file.subarray(from, to)).replace(/\r$/, '').trim()
  if (line(0, first) !== PSK_CODEC) throw new InvalidPreSharedKeyError(`the key file does not start with ${PSK_CODEC}`)
  const encoding = line(first + 1, second)
  const rest = file.subarray(second + 1)
  let key: Uint8Array
  switch (encoding) {
    case '/bin/':
      key = new Uint8Array(rest)
      break
    case '/base16/': {
      const text = new TextDecoder().decode(rest).trim()
      if (!/^[0-9a-fA-F]*$/.test(text) || text.length % 2 !== 0) throw new InvalidPreSharedKeyError('the key is not base16')
      key = Uint8Array.from(text.match(/../g) ?? [], h => parseInt(h, 16))
      break
    }
    case '/base64/': {
      const text = new TextDecoder().decode(rest).trim()
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new InvalidPreSharedKeyError('the key is not base64')
      key = Uint8Array.from(atob(text), c => c.charCodeAt(0))
      break
    }
    default: throw new InvalidPreSharedKeyError(`unknown key encoding ${JSON.stringify(encoding)} (expected /base16/, /base64/ or /bin/)`)
  }
  if (key.length !== PSK_LENGTH) throw new InvalidPreSharedKeyError(`the key is ${key.length} bytes, not ${PSK_LENGTH}`)
  return key
}

/** A key file for `key` in the given encoding (default base16, what go's and js's tools write). */
export function encodePreSharedKey (key: Uint8Array, encoding: PskEncoding = 'base16'): Uint8Array {
  if (key.length !== PSK_LENGTH) throw new InvalidPreSharedKeyError(`the key is ${key.length} bytes, not ${PSK_LENGTH}`)
  const header = new TextEncoder().encode(`${PSK_CODEC}\n/${encoding}/\n`)
  let body: Uint8Array
  if (encoding === 'bin') body = key
  else if (encoding === 'base16') body = new TextEncoder().encode(Array.from(key, b => b.toString(16).padStart(2, '0')).join(''))
  else body = new TextEncoder().encode(btoa(String.fromCharCode(...key)))
  const out = new Uint8Array(header.length + body.length)
  out.set(header)
  out.set(body, header.length)
  return out
}

/** A key file with a fresh random key. */
export function generatePreSharedKey (encoding: PskEncoding = 'base16'): Uint8Array {
  return encodePreSharedKey(randomBytes(PSK_LENGTH), encoding)
}
