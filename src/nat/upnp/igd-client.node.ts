/**
 * UPnP IGD client: finds the Internet Gateway Device with SSDP, reads its description, and
 * drives its WANIPConnection / WANPPPConnection service (GetExternalIPAddress, AddPortMapping,
 * DeletePortMapping). Whom it trusts: an SSDP answer counts only when its LOCATION names the
 * very address the answer came from and that address is on our network (private, link-local
 * or loopback, never a public one), and the control URL must stay on that host; so neither a
 * device on the LAN nor a hostile description can make us talk to an address outside the LAN.
 * Every answer is size-limited and parsed into typed errors; every step runs under the
 * caller's signal. Node-only (node:dgram, node:http).
 */
import { createSocket, type RemoteInfo } from 'node:dgram'
import type { Logger } from '../../interface/logger.ts'
import { InvalidMessageError } from '../../util/errors.ts'
import { classifyIp } from '../../util/multiaddr.ts'
import { unrefTimeout } from '../../util/timers.ts'
import { GatewayNotFoundError, UPnPActionError, UntrustedGatewayError } from '../errors.ts'
import type { GatewayClient, Mapping, MappingRequest } from '../mapping-client.ts'
import { parseDeviceDescription, type WanConnectionService } from './device-description.ts'
import { httpExchange } from './http-client.node.ts'
import { buildSoapRequest, parseSoapResponse, soapActionHeader } from './soap.ts'
import { buildMSearch, parseSsdpResponse, SSDP_MULTICAST_ADDRESS, SSDP_PORT, type SsdpResponse } from './ssdp.ts'

/** Device descriptions are a few KiB; 64 KiB bounds a hostile one. */
const MAX_DESCRIPTION_BYTES = 64 * 1024
const MAX_SOAP_BYTES = 16 * 1024
/** Distinct SSDP answers looked at per discovery; more is a flood. */
const MAX_CANDIDATES = 8
/** The M-SEARCH is sent again after this long (UDP may drop the first). */
const RESEND_AFTER_MS = 1000
/** UPnP error codes (IGD:2 WANIPConnection spec, section 2.4). */
export const UPNP_CONFLICT_IN_MAPPING_ENTRY = 718
export const UPNP_ONLY_PERMANENT_LEASES_SUPPORTED = 725

export interface IgdDiscoveryOptions {
  signal: AbortSignal
  /** Where M-SEARCH goes (default the SSDP multicast group); tests point it at a loopback server. */
  searchAddress?: { host: string, port: number }
  /** Send from this local address (one LAN interface of several). */
  localAddress?: string
  log?: Logger
}

/** Finds the gateway; rejects with GatewayNotFoundError (its cause: the last problem seen) when the signal ends the search. */
export async function discoverIgd (options: IgdDiscoveryOptions): Promise<UPnPGatewayClient> {
  const { signal, log } = options
  signal.throwIfAborted()
  const target = options.searchAddress ?? { host: SSDP_MULTICAST_ADDRESS, port: SSDP_PORT }
  const socket = createSocket({ type: 'udp4' })
  const request = buildMSearch()
  const seen = new Set<string>()
  const candidates: Array<{ answer: SsdpResponse, from: string }> = []
  let lastProblem: unknown
  let wake: (() => void) | undefined
  let resend: ReturnType<typeof unrefTimeout> | undefined
  const send = (): void => { socket.send(request, target.port, target.host, (err) => { if (err != null) { lastProblem = err; wake?.() } }) }
  const onAbort = (): void => { wake?.() }
  socket.on('error', (err) => { lastProblem = err; wake?.() })
  socket.on('message', (datagram: Buffer, from: RemoteInfo) => {
    if (seen.size >= MAX_CANDIDATES) return
    try {
      const answer = parseSsdpResponse(datagram)
      const key = answer.location.href
      if (seen.has(key)) return
      seen.add(key)
      trustedAnswer(answer, from.address)
      candidates.push({ answer, from: from.address })
      wake?.()
    } catch (err) {
      lastProblem = err
      log?.('ignoring SSDP answer from %s: %s', from.address, (err as Error).message)
    }
  })
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('listening', resolve)
      socket.once('error', reject)
      socket.bind({ port: 0, address: options.localAddress })
    })
    // UDA 1.1: a TTL of 2 by default, so the search does not travel past the LAN.
    socket.setMulticastTTL(2)
    if (options.localAddress !== undefined) socket.setMulticastInterface(options.localAddress)
    send()
    resend = unrefTimeout(send, RESEND_AFTER_MS)
    while (true) {
      const next = candidates.shift()
      if (next !== undefined) {
        try {
          return await UPnPGatewayClient.fromLocation(next.answer.location, { signal, localAddress: options.localAddress })
        } catch (err) {
          if (signal.aborted) break
          lastProblem = err
          log?.('gateway %s unusable: %s', next.answer.location.href, (err as Error).message)
          continue
        }
      }
      if (signal.aborted) break
      await new Promise<void>(resolve => { wake = resolve })
      wake = undefined
    }
    throw new GatewayNotFoundError(`no usable UPnP gateway answered${lastProblem !== undefined ? `: ${(lastProblem as Error).message}` : ''}`, { cause: lastProblem ?? signal.reason })
  } finally {
    if (resend !== undefined) clearTimeout(resend)
    signal.removeEventListener('abort', onAbort)
    socket.close()
  }
}

/** Throws UntrustedGatewayError unless the answer points at its own sender on our network. */
function trustedAnswer (answer: SsdpResponse, from: string): void {
  if (answer.location.hostname !== from) throw new UntrustedGatewayError(`SSDP answer from ${from} points at ${answer.location.hostname}`)
  if (classifyIp(from) === 'public') throw new UntrustedGatewayError(`SSDP answer from ${from}, a public address`)
}

export interface UPnPClientOptions {
  signal: AbortSignal
  localAddress?: string
}

/** One gateway's WAN connection service, reached over SOAP. */
export class UPnPGatewayClient implements GatewayClient {
  readonly kind = 'upnp' as const
  readonly gateway: string
  readonly localAddress: string
  readonly service: WanConnectionService
  readonly #bindAddress: string | undefined

  /** Reads the description at `location` (an address on our network). */
  static async fromLocation (location: URL, options: UPnPClientOptions): Promise<UPnPGatewayClient> {
    if (classifyIp(location.hostname) === 'public') throw new UntrustedGatewayError(`${location.hostname} is not on the local network`)
    const res = await httpExchange(location, { method: 'GET', maxBytes: MAX_DESCRIPTION_BYTES, signal: options.signal, localAddress: options.localAddress })
    if (res.status !== 200) throw new InvalidMessageError(`device description: HTTP ${res.status}`)
    if (res.localAddress === undefined) throw new InvalidMessageError('device description: no local address seen')
    return new UPnPGatewayClient(parseDeviceDescription(res.body, location), stripMappedPrefix(res.localAddress), options.localAddress)
  }

  constructor (service: WanConnectionService, localAddress: string, bindAddress?: string) {
    this.service = service
    this.gateway = service.controlUrl.hostname
    this.localAddress = localAddress
    this.#bindAddress = bindAddress
  }

  async externalAddress (options: { signal: AbortSignal }): Promise<string> {
    const out = await this.#action('GetExternalIPAddress', [], options.signal)
    return out.get('NewExternalIPAddress') ?? ''
  }

  async map (request: MappingRequest, options: { signal: AbortSignal }): Promise<Mapping> {
    try {
      return await this.#addPortMapping(request, request.lifetimeSeconds, options.signal)
    } catch (err) {
      // IGD:1 devices may only do permanent leases; we still remove the mapping on stop.
      if (err instanceof UPnPActionError && err.upnpErrorCode === UPNP_ONLY_PERMANENT_LEASES_SUPPORTED && request.lifetimeSeconds !== 0) {
        return await this.#addPortMapping(request, 0, options.signal)
      }
      throw err
    }
  }

  async #addPortMapping (request: MappingRequest, lease: number, signal: AbortSignal): Promise<Mapping> {
    await this.#action('AddPortMapping', [
      ['NewRemoteHost', ''],
      ['NewExternalPort', request.externalPort],
      ['NewProtocol', request.protocol.toUpperCase()],
      ['NewInternalPort', request.internalPort],
      ['NewInternalClient', request.internalHost],
      ['NewEnabled', 1],
      ['NewPortMappingDescription', request.description],
      ['NewLeaseDuration', lease]
    ], signal)
    return { protocol: request.protocol, internalPort: request.internalPort, externalPort: request.externalPort, lifetimeSeconds: lease }
  }

  async unmap (mapping: Mapping, options: { signal: AbortSignal }): Promise<void> {
    await this.#action('DeletePortMapping', [
      ['NewRemoteHost', ''],
      ['NewExternalPort', mapping.externalPort],
      ['NewProtocol', mapping.protocol.toUpperCase()]
    ], options.signal)
  }

  close (): void {}

  async #action (action: string, args: ReadonlyArray<readonly [string, string | number]>, signal: AbortSignal): Promise<Map<string, string>> {
    const res = await httpExchange(this.service.controlUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'text/xml; charset="utf-8"', SOAPAction: soapActionHeader(this.service.serviceType, action) },
      body: buildSoapRequest(this.service.serviceType, action, args),
      maxBytes: MAX_SOAP_BYTES,
      signal,
      localAddress: this.#bindAddress
    })
    // A fault comes with 500; parseSoapResponse turns it into UPnPActionError.
    if (res.status !== 200 && res.status !== 500) throw new InvalidMessageError(`${action}: HTTP ${res.status}`)
    return parseSoapResponse(res.body, action)
  }
}

function stripMappedPrefix (address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}
