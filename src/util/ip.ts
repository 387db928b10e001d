/**
 * IP address arithmetic: parsing IPv4/IPv6 text to bytes, prefixes (/24, /64, ...) as map keys,
 * and CIDR ranges. Used by the resource manager's per-address limits and allowlist (and by
 * anything that must treat a range as public or private). Browser-safe, no allocation beyond
 * the 4 or 16 result bytes.
 */
import { InvalidParametersError } from './errors.ts'

/** The 4 or 16 bytes of an IP literal (IPv4-mapped IPv6 counts as IPv4); undefined if not one. */
export function parseIp (text: string): Uint8Array | undefined {
  const zone = text.indexOf('%')
  const ip = zone >= 0 ? text.slice(0, zone) : text
  if (!ip.includes(':')) return parseIPv4(ip)
  const lower = ip.toLowerCase()
  if (lower.startsWith('::ffff:') && lower.includes('.')) return parseIPv4(lower.slice(7))
  return parseIPv6(lower)
}

function parseIPv4 (ip: string): Uint8Array | undefined {
  const parts = ip.split('.')
  if (parts.length !== 4) return undefined
  const out = new Uint8Array(4)
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return undefined
    const n = Number(parts[i])
    if (n > 255) return undefined
    out[i] = n
  }
  return out
}

function parseIPv6 (ip: string): Uint8Array | undefined {
  const halves = ip.split('::')
  if (halves.length > 2) return undefined
  const head = halves[0] === '' ? [] : halves[0].split(':')
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1].split(':') : []
  // an embedded IPv4 tail (::1.2.3.4) takes two groups
  const last = (halves.length === 2 ? tail : head)
  let v4: Uint8Array | undefined
  if (last.length > 0 && last[last.length - 1].includes('.')) {
    v4 = parseIPv4(last.pop()!)
    if (v4 === undefined) return undefined
  }
  const groups = head.length + tail.length + (v4 !== undefined ? 2 : 0)
  if (halves.length === 1 ? groups !== 8 : groups > 7) return undefined
  const words: number[] = []
  for (const g of head) { if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined; words.push(parseInt(g, 16)) }
  if (halves.length === 2) for (let i = 0; i < 8 - groups; i++) words.push(0)
  for (const g of tail) { if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined; words.push(parseInt(g, 16)) }
  const out = new Uint8Array(16)
  words.forEach((w, i) => { out[2 * i] = w >> 8; out[2 * i + 1] = w & 0xff })
  if (v4 !== undefined) out.set(v4, 12)
  return out
}

/** True for 127.0.0.0/8 and ::1 (bytes from parseIp). */
export function isLoopbackBytes (ip: Uint8Array): boolean {
  return ip.length === 4 ? ip[0] === 127 : ip.every((b, i) => b === (i === 15 ? 1 : 0))
}

/** A map key for the first `bits` bits of `ip` (e.g. 24 for an IPv4 /24). */
export function prefixKey (ip: Uint8Array, bits: number): string {
  const full = Math.floor(bits / 8)
  let key = `${ip.length === 4 ? 4 : 6}/${bits}:`
  for (let i = 0; i < full; i++) key += ip[i].toString(16).padStart(2, '0')
  const rest = bits % 8
  if (rest > 0) key += (ip[full] & (0xff << (8 - rest)) & 0xff).toString(16).padStart(2, '0')
  return key
}

export interface Cidr {
  readonly network: Uint8Array
  readonly bits: number
}

/** Parses `10.0.0.0/8`, `2001:db8::/32` or a bare address (a /32 or /128); throws on anything else. */
export function parseCidr (text: string): Cidr {
  const slash = text.indexOf('/')
  const network = parseIp(slash >= 0 ? text.slice(0, slash) : text)
  if (network === undefined) throw new InvalidParametersError(`not a CIDR range: ${text}`)
  const max = network.length * 8
  const bits = slash >= 0 ? Number(text.slice(slash + 1)) : max
  if (!Number.isInteger(bits) || bits < 0 || bits > max) throw new InvalidParametersError(`not a CIDR range: ${text}`)
  return { network, bits }
}

/** True when `ip` (bytes from parseIp) lies in `range`. */
export function cidrContains (range: Cidr, ip: Uint8Array): boolean {
  if (ip.length !== range.network.length) return false
  const full = Math.floor(range.bits / 8)
  for (let i = 0; i < full; i++) if (ip[i] !== range.network[i]) return false
  const rest = range.bits % 8
  if (rest === 0) return true
  const mask = (0xff << (8 - rest)) & 0xff
  return (ip[full] & mask) === (range.network[full] & mask)
}
