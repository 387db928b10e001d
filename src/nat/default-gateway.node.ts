/**
 * The IPv4 default gateway, for NAT-PMP (which has no discovery: it talks to the router that
 * routes our traffic, RFC 6886 section 3). Node has no API for it; on Linux the kernel lists
 * routes in /proc/net/route, which is read here (4 KiB at most). Elsewhere the caller gives
 * the gateway. Node-only (node:fs).
 */
import { open } from 'node:fs/promises'

const ROUTE_TABLE = '/proc/net/route'
const MAX_ROUTE_TABLE_BYTES = 4096
const RTF_GATEWAY = 0x2

/** The default route's gateway as an IPv4 literal, or undefined when there is none or no table. */
export async function defaultGatewayIPv4 (routeTable = ROUTE_TABLE): Promise<string | undefined> {
  let text: string
  try {
    const file = await open(routeTable, 'r')
    try {
      const buffer = Buffer.alloc(MAX_ROUTE_TABLE_BYTES)
      const { bytesRead } = await file.read(buffer, 0, buffer.length, 0)
      text = buffer.toString('latin1', 0, bytesRead)
    } finally {
      await file.close()
    }
  } catch {
    return undefined
  }
  return parseDefaultGateway(text)
}

/** Reads the first default route with a gateway from /proc/net/route's text. */
export function parseDefaultGateway (text: string): string | undefined {
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    if (fields.length < 4 || fields[1] !== '00000000') continue
    const flags = parseInt(fields[3], 16)
    if (!/^[0-9A-Fa-f]{8}$/.test(fields[2]) || (flags & RTF_GATEWAY) === 0) continue
    // The kernel writes the address as a host-order (little-endian here) 32-bit hex number.
    const n = parseInt(fields[2], 16)
    return `${n & 0xff}.${(n >>> 8) & 0xff}.${(n >>> 16) & 0xff}.${n >>> 24}`
  }
  return undefined
}
