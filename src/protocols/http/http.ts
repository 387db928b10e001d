/**
 * HTTP over libp2p (http/README.md): a service that serves fetch-style handlers on inbound
 * `/http/1.1` streams and fetches from other peers over outbound ones.
 *
 *   const node = await createLibp2p({ services: { http: http() } })
 *   node.services.http.handle('/hello', () => new Response('hi'), { protocol: '/hello/1' })
 *   const res = await other.services.http.fetch(node.peerId, { path: '/hello' })
 *   // or by protocol id, through the peer's /.well-known/libp2p/protocols document:
 *   const res2 = await other.services.http.fetchProtocol(node.peerId, '/hello/1')
 *
 * A target is a peer id, a multiaddr (list), a connection, or a `multiaddr:` URI whose
 * multiaddr may end in `/http-path/<percent-encoded path>`.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from '../../interface/common.ts'
import type { NodeComponents, Startable } from '../../interface/components.ts'
import type { Logger } from '../../interface/logger.ts'
import { InvalidParametersError } from '../../util/errors.ts'
import { resolveConnection, type ProtocolTarget } from '../connection-target.ts'
import { requestOverStream } from './client.ts'
import { HttpBodyTooLargeError, HttpError } from './errors.ts'
import type { HttpLimits } from './head.ts'
import { HttpRouter, MAX_WELL_KNOWN_BYTES, WELL_KNOWN_PROTOCOLS_PATH, parseProtocolMap, type ProtocolMap, type RouteOptions } from './router.ts'
import { serveHttpStream, type FetchHandler, type ServeOptions } from './server.ts'

export const HTTP_PROTOCOL = '/http/1.1'

export interface HttpServiceOptions extends Omit<ServeOptions, 'log'> {
  protocol?: string
  /** Client: until a response head arrives, in ms (default 30 s). */
  timeout?: number
  /** Concurrent inbound `/http/1.1` streams per connection (default 64). */
  maxInboundStreams?: number
  maxOutboundStreams?: number
  runOnLimitedConnection?: boolean
  /** Peers whose well-known document is cached (default 256). */
  wellKnownCacheSize?: number
}

export interface HttpFetchInit extends RequestInit {
  /** Path and query on the remote (default: the target's /http-path, else `/`). */
  path?: string
  signal?: AbortSignal
  limits?: Partial<HttpLimits>
  /** The request body's length when `body` is a stream whose length the caller knows. */
  contentLength?: number
}

export type HttpComponents = Pick<NodeComponents, 'registrar' | 'connectionManager' | 'logger'>

/** Splits a `multiaddr:` URI or a multiaddr with `/http-path` into what to dial and the path. */
export function parseHttpTarget (target: ProtocolTarget | string): { dial: ProtocolTarget, path?: string } {
  let addr: Multiaddr | undefined
  if (typeof target === 'string') {
    if (!target.startsWith('multiaddr:')) throw new InvalidParametersError(`not a multiaddr URI: ${target}`)
    addr = multiaddr(target.slice('multiaddr:'.length))
  } else if (typeof target === 'object' && target !== null && 'getComponents' in target && typeof target.getComponents === 'function') {
    addr = target as Multiaddr
  }
  if (addr === undefined) return { dial: target as ProtocolTarget }
  const components = addr.getComponents()
  const at = components.findIndex(c => c.name === 'http-path')
  if (at < 0) return { dial: addr }
  const path = '/' + (components[at].value ?? '').replace(/^\/+/, '')
  return { dial: multiaddr(components.slice(0, at)), path }
}

/** Reads a body of at most `max` bytes (the well-known document), refusing a larger one. */
async function readBounded (response: Response, max: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? NaN)
  if (declared > max) {
    await response.body?.cancel()
    throw new HttpBodyTooLargeError(`well-known document of ${declared} bytes`)
  }
  const chunks: Uint8Array[] = []
  let total = 0
  if (response.body !== null) {
    const reader = response.body.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.length
      if (total > max) {
        await reader.cancel()
        throw new HttpBodyTooLargeError(`well-known document over ${max} bytes`)
      }
      chunks.push(value)
    }
  }
  const out = new Uint8Array(total)
  let offset = 0
  for (const c of chunks) { out.set(c, offset); offset += c.length }
  return out
}

export class HttpService implements Startable {
  readonly serviceCapabilities: readonly string[] = ['@libp2p/http']
  readonly protocol: string
  readonly router = new HttpRouter()
  readonly #components: HttpComponents
  readonly #options: HttpServiceOptions
  readonly #log: Logger
  readonly #wellKnown = new Map<string, ProtocolMap>()

  constructor (components: HttpComponents, options: HttpServiceOptions = {}) {
    this.#components = components
    this.#options = options
    this.#log = components.logger('http')
    this.protocol = options.protocol ?? HTTP_PROTOCOL
  }

  start (): void {
    const serveOptions: ServeOptions = { ...this.#options, log: this.#log }
    this.#components.registrar.handle(this.protocol, (stream, connection) => {
      void serveHttpStream(stream, this.router.onRequest, { peer: connection.remotePeer, connection }, serveOptions)
    }, {
      maxInboundStreams: this.#options.maxInboundStreams ?? 64,
      maxOutboundStreams: this.#options.maxOutboundStreams ?? 64,
      runOnLimitedConnection: this.#options.runOnLimitedConnection ?? false
    })
  }

  stop (): void {
    this.#components.registrar.unhandle(this.protocol)
    this.#wellKnown.clear()
  }

  /** Serves `path` (and below) with a fetch-style handler; `protocol` lists it in the well-known document. */
  handle (path: string, handler: FetchHandler, options?: RouteOptions): void {
    this.router.add(path, handler, options)
  }

  unhandle (path: string): void {
    this.router.remove(path)
  }

  /** What this node's well-known document lists. */
  getProtocolMap (): ProtocolMap {
    return this.router.protocolMap()
  }

  /** The fetch-style entry point of this node's handlers (to serve them elsewhere too, e.g. node:http). */
  get onRequest (): FetchHandler { return this.router.onRequest }

  /** Sends one request to `target` over a new `/http/1.1` stream. */
  async fetch (target: ProtocolTarget | string, init: HttpFetchInit = {}): Promise<Response> {
    const { dial, path: targetPath } = parseHttpTarget(target)
    const { path, limits, contentLength, ...requestInit } = init
    const connection = await resolveConnection(this.#components.connectionManager, dial, init.signal)
    const stream = await connection.newStream(this.protocol, { signal: init.signal, runOnLimitedConnection: this.#options.runOnLimitedConnection })
    const pathAndQuery = path ?? targetPath ?? '/'
    if (!pathAndQuery.startsWith('/')) throw new InvalidParametersError(`path must start with /: ${pathAndQuery}`)
    let request: Request
    try {
      request = new Request(`http://${connection.remotePeer.toString()}${pathAndQuery}`, { ...requestInit, duplex: 'half' } as RequestInit)
    } catch (err) {
      stream.abort(err as Error)
      throw new InvalidParametersError(`invalid request: ${(err as Error).message}`)
    }
    return await requestOverStream(stream, request, { limits, signal: init.signal, timeout: this.#options.timeout, contentLength })
  }

  /** The target's well-known protocols document (cached per peer until the service stops). */
  async getPeerProtocolMap (target: ProtocolTarget, options: AbortOptions = {}): Promise<ProtocolMap> {
    const connection = await resolveConnection(this.#components.connectionManager, parseHttpTarget(target).dial, options.signal)
    const key = connection.remotePeer.toString()
    const cached = this.#wellKnown.get(key)
    if (cached !== undefined) return cached
    const response = await this.fetch(connection, { path: WELL_KNOWN_PROTOCOLS_PATH, signal: options.signal, headers: { accept: 'application/json' } })
    if (!response.ok) {
      await response.body?.cancel()
      throw new HttpError(`${key} answered ${response.status} for ${WELL_KNOWN_PROTOCOLS_PATH}`, 'ERR_HTTP_WELL_KNOWN', response.status)
    }
    const bytes = await readBounded(response, MAX_WELL_KNOWN_BYTES)
    let json: unknown
    try {
      json = JSON.parse(new TextDecoder().decode(bytes))
    } catch (err) {
      throw new HttpError(`invalid well-known document from ${key}: ${(err as Error).message}`, 'ERR_HTTP_WELL_KNOWN', 502)
    }
    const map = parseProtocolMap(json)
    if (this.#wellKnown.size >= (this.#options.wellKnownCacheSize ?? 256)) this.#wellKnown.delete(this.#wellKnown.keys().next().value!)
    this.#wellKnown.set(key, map)
    return map
  }

  /**
   * Fetches `subpath` under the path where `target` mounts `protocolId`, as its well-known
   * document says. Fails with NotFound-like HttpError 404 when the peer does not list it.
   */
  async fetchProtocol (target: ProtocolTarget, protocolId: string, subpath: string = '', init: HttpFetchInit = {}): Promise<Response> {
    const map = await this.getPeerProtocolMap(target, { signal: init.signal })
    const entry = map[protocolId]
    if (entry === undefined) throw new HttpError(`the peer does not serve ${protocolId} over HTTP`, 'ERR_HTTP_PROTOCOL_NOT_FOUND', 404)
    const base = entry.path.endsWith('/') ? entry.path : entry.path + '/'
    const path = subpath === '' ? entry.path : base + subpath.replace(/^\/+/, '')
    return await this.fetch(parseHttpTarget(target).dial, { ...init, path })
  }
}

/** Service factory: `services: { http: http() }`. */
export function http (options: HttpServiceOptions = {}): (components: HttpComponents) => HttpService {
  return (components) => new HttpService(components, options)
}
