/**
 * SSDP (UPnP Device Architecture 1.1, section 1.3): the M-SEARCH request that asks the local
 * network for Internet Gateway Devices, and a bounded parser for the unicast HTTP-over-UDP
 * answers. Anyone on the LAN can answer, so the parser only reads; the discovery code decides
 * whom to trust (see igd-client.node.ts). Browser-safe.
 */
import { InvalidMessageError, MessageTooLargeError } from '../../util/errors.ts'

export const SSDP_MULTICAST_ADDRESS = '239.255.255.250'
export const SSDP_PORT = 1900
/** The search target for IGDs; v1 devices answer it and so do most v2 ones. */
export const IGD_SEARCH_TARGET = 'urn:schemas-upnp-org:device:InternetGatewayDevice:1'
/** Bytes of one SSDP answer at most (real ones are ~300; a UDP datagram could be 64 KiB). */
export const MAX_SSDP_RESPONSE_BYTES = 2048
const MAX_SSDP_HEADERS = 32

export interface SsdpResponse {
  /** The device description URL (LOCATION header). */
  readonly location: URL
  /** The search target answered (ST header). */
  readonly searchTarget: string
  /** USN and SERVER when present (for logs). */
  readonly usn?: string
  readonly server?: string
}

/** The M-SEARCH datagram for `searchTarget`; `mx` is how many seconds devices may wait to answer. */
export function buildMSearch (searchTarget: string = IGD_SEARCH_TARGET, mx = 2): Uint8Array {
  return new TextEncoder().encode(
    'M-SEARCH * HTTP/1.1\r\n' +
    `HOST: ${SSDP_MULTICAST_ADDRESS}:${SSDP_PORT}\r\n` +
    'MAN: "ssdp:discover"\r\n' +
    `MX: ${mx}\r\n` +
    `ST: ${searchTarget}\r\n` +
    '\r\n')
}

/** Parses one SSDP answer; throws InvalidMessageError / MessageTooLargeError. */
export function parseSsdpResponse (datagram: Uint8Array): SsdpResponse {
  if (datagram.length > MAX_SSDP_RESPONSE_BYTES) throw new MessageTooLargeError(`SSDP answer of ${datagram.length} bytes exceeds ${MAX_SSDP_RESPONSE_BYTES}`)
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(datagram)
  } catch (err) {
    throw new InvalidMessageError('SSDP answer is not UTF-8', { cause: err })
  }
  const lines = text.split(/\r?\n/)
  if (!/^HTTP\/1\.[01] 200(\s|$)/i.test(lines[0] ?? '')) throw new InvalidMessageError('SSDP answer is not "HTTP/1.1 200 OK"')
  const headers = new Map<string, string>()
  let count = 0
  for (const line of lines.slice(1)) {
    if (line === '') break
    if (++count > MAX_SSDP_HEADERS) throw new MessageTooLargeError(`SSDP answer has more than ${MAX_SSDP_HEADERS} headers`)
    const colon = line.indexOf(':')
    if (colon <= 0) throw new InvalidMessageError('SSDP answer has a malformed header line')
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
  }
  const locationText = headers.get('location')
  if (locationText === undefined || locationText === '') throw new InvalidMessageError('SSDP answer has no LOCATION')
  let location: URL
  try {
    location = new URL(locationText)
  } catch (err) {
    throw new InvalidMessageError('SSDP LOCATION is not a URL', { cause: err })
  }
  if (location.protocol !== 'http:') throw new InvalidMessageError(`SSDP LOCATION must be an http: URL, not ${location.protocol}`)
  return { location, searchTarget: headers.get('st') ?? '', usn: headers.get('usn'), server: headers.get('server') }
}
