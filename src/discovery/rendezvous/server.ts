/**
 * The rendezvous point (specs rendezvous/README.md): peers register under namespaces with a
 * signed peer record and a TTL, and others discover them, page by page with cookies.
 * `services: { rendezvousServer: rendezvousServer() }`; the CLI's `start --rendezvous-server`.
 *
 * - A registration must be the registering peer's own signed peer record (signed by the key of
 *   the connection's remote peer): E_NOT_AUTHORIZED otherwise, E_INVALID_SIGNED_PEER_RECORD
 *   when it does not verify. TTL default 2 h, bounds [minTtl, maxTtl] (2 h and 72 h, as
 *   rust-libp2p): E_INVALID_TTL outside. Namespaces are 1-255 bytes: E_INVALID_NAMESPACE.
 * - Limits per peer and per namespace (./registrations.ts): a full namespace or a peer over its
 *   quota gets E_UNAVAILABLE, the status for "not now".
 * - Registrations persist in the node's datastore and are swept when they expire.
 * - A discover returns at most `min(limit, maxDiscoverLimit)` registrations and a cookie; the
 *   cookie carries the namespace and the last sequence number returned, and a random epoch of
 *   this server's run, so a cookie from before a restart starts over instead of skipping.
 * - Each stream carries requests one after another until the client closes it; each request
 *   has a time limit and a size limit (the decoder's).
 */
import type { Connection } from '../../interface/connection.ts'
import type { NodeComponents, Startable } from '../../interface/components.ts'
import type { Logger } from '../../interface/logger.ts'
import type { Stream } from '../../interface/stream.ts'
import { consumeSignedPeerRecord } from '../../peer/peer-record.ts'
import { utf8Decode, utf8Encode, equalBytes } from '../../util/bytes.ts'
import { closeOrAbort, Deadline } from '../../util/deadline.ts'
import { StreamReader, writeLP } from '../../util/stream-reader.ts'
import { unrefInterval } from '../../util/timers.ts'
import { decodeRendezvousMessage, encodeRendezvousMessage, MAX_NAMESPACE_LENGTH, MAX_REQUEST_SIZE, MAX_REGISTRATIONS_PER_RESPONSE, MessageType, RENDEZVOUS_PROTOCOL, ResponseStatus } from './messages.ts'
import type { Discover, DiscoverResponse, Register, RegisterResponse } from './messages.ts'
import { RegistrationStore } from './registrations.ts'
import type { RegistrationLimits } from './registrations.ts'

export const DEFAULT_TTL_SECONDS = 2 * 60 * 60
export const MIN_TTL_SECONDS = 2 * 60 * 60
export const MAX_TTL_SECONDS = 72 * 60 * 60

export interface RendezvousServerOptions extends RegistrationLimits {
  /** Shortest TTL accepted, in seconds (default 2 h). */
  minTtl?: number
  /** Longest TTL accepted, in seconds (default 72 h). */
  maxTtl?: number
  /** Registrations returned per discover at most (default 1000). */
  maxDiscoverLimit?: number
  /** One request, read to answered, in ms (default 10 s). */
  requestTimeout?: number
  /** How often expired registrations are swept, in ms (default 60 s). */
  sweepInterval?: number
  now?: () => number
}

export type RendezvousServerComponents = Pick<NodeComponents, 'registrar' | 'datastore' | 'logger'>

const EPOCH_BYTES = 8
const SEQ_BYTES = 8

export class RendezvousServer implements Startable {
  readonly #components: RendezvousServerComponents
  readonly #log: Logger
  readonly #store: RegistrationStore
  readonly #minTtl: number
  readonly #maxTtl: number
  readonly #maxDiscoverLimit: number
  readonly #requestTimeout: number
  readonly #sweepInterval: number
  readonly #epoch = crypto.getRandomValues(new Uint8Array(EPOCH_BYTES))
  #sweeper: ReturnType<typeof setInterval> | undefined
  #shutdown = new AbortController()

  constructor (components: RendezvousServerComponents, options: RendezvousServerOptions = {}) {
    this.#components = components
    this.#log = components.logger('rendezvous:server')
    this.#store = new RegistrationStore(components.datastore, options, options.now)
    this.#minTtl = options.minTtl ?? MIN_TTL_SECONDS
    this.#maxTtl = options.maxTtl ?? MAX_TTL_SECONDS
    this.#maxDiscoverLimit = Math.min(options.maxDiscoverLimit ?? MAX_REGISTRATIONS_PER_RESPONSE, MAX_REGISTRATIONS_PER_RESPONSE)
    this.#requestTimeout = options.requestTimeout ?? 10_000
    this.#sweepInterval = options.sweepInterval ?? 60_000
  }

  /** Live registrations held (for tests and metrics). */
  get registrations (): number { return this.#store.size }

  async start (): Promise<void> {
    this.#shutdown = new AbortController()
    await this.#store.load()
    await this.#components.registrar.handle(RENDEZVOUS_PROTOCOL, this.#handle, { maxInboundStreams: 32 })
    this.#sweeper = unrefInterval(() => {
      this.#store.sweep().catch((err: Error) => { this.#log('sweeping expired registrations failed: %s', err.message) })
    }, this.#sweepInterval)
  }

  async stop (): Promise<void> {
    this.#shutdown.abort()
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper)
    this.#sweeper = undefined
    await this.#components.registrar.unhandle(RENDEZVOUS_PROTOCOL)
  }

  readonly #handle = (stream: Stream, connection: Connection): void => {
    this.#serve(stream, connection).catch((err: Error) => {
      this.#log('request from %s failed: %s', connection.remotePeer, err.message)
      stream.abort(err)
    })
  }

  async #serve (stream: Stream, connection: Connection): Promise<void> {
    const reader = new StreamReader(stream)
    try {
      for (;;) {
        const deadline = new Deadline(this.#requestTimeout, this.#shutdown.signal, 'rendezvous request timed out')
        try {
          const frame = await reader.readLP({ maxLength: MAX_REQUEST_SIZE, signal: deadline.signal })
          if (frame === null) break
          const request = decodeRendezvousMessage(frame)
          const response = await this.#answer(request, connection)
          if (response === undefined) continue
          await writeLP(stream, encodeRendezvousMessage(response), { signal: deadline.signal })
        } finally {
          deadline.clear()
        }
      }
    } finally {
      reader.release()
    }
    await closeOrAbort(stream, 1_000)
  }

  async #answer (request: ReturnType<typeof decodeRendezvousMessage>, connection: Connection) {
    const peer = connection.remotePeer.toString()
    switch (request.type) {
      case MessageType.REGISTER:
        return { type: MessageType.REGISTER_RESPONSE, registerResponse: await this.#register(request.register ?? {}, connection) }
      case MessageType.UNREGISTER: {
        const ns = request.unregister?.ns
        if (ns !== undefined && validNamespace(ns)) await this.#store.remove(ns, peer)
        return undefined // the spec has no response to an unregister
      }
      case MessageType.DISCOVER:
        return { type: MessageType.DISCOVER_RESPONSE, discoverResponse: this.#discover(request.discover ?? {}) }
      default:
        throw new Error(`unexpected rendezvous message type ${String(request.type)}`)
    }
  }

  async #register (req: Register, connection: Connection): Promise<RegisterResponse> {
    const refuse = (status: number, statusText: string): RegisterResponse => ({ status, statusText })
    if (req.ns === undefined || !validNamespace(req.ns)) return refuse(ResponseStatus.E_INVALID_NAMESPACE, 'namespace must be 1-255 bytes')
    const ttl = req.ttl ?? BigInt(DEFAULT_TTL_SECONDS)
    if (ttl < BigInt(this.#minTtl) || ttl > BigInt(this.#maxTtl)) return refuse(ResponseStatus.E_INVALID_TTL, `ttl must be between ${this.#minTtl} and ${this.#maxTtl} seconds`)
    if (req.signedPeerRecord === undefined) return refuse(ResponseStatus.E_INVALID_SIGNED_PEER_RECORD, 'no signed peer record')
    try {
      await consumeSignedPeerRecord(req.signedPeerRecord, { expectedPeer: connection.remotePeer })
    } catch (err) {
      const notOurs = (err as { code?: string }).code === 'ERR_UNEXPECTED_PEER'
      return refuse(notOurs ? ResponseStatus.E_NOT_AUTHORIZED : ResponseStatus.E_INVALID_SIGNED_PEER_RECORD, (err as Error).message.slice(0, 200))
    }
    const result = await this.#store.add(req.ns, connection.remotePeer.toString(), req.signedPeerRecord, Number(ttl) * 1000)
    if (result !== 'ok') return refuse(ResponseStatus.E_UNAVAILABLE, result === 'peer-limit' ? 'too many registrations for this peer' : 'namespace full')
    return { status: ResponseStatus.OK, ttl }
  }

  #discover (req: Discover): DiscoverResponse {
    const ns = req.ns === '' ? undefined : req.ns
    if (ns !== undefined && !validNamespace(ns)) return { registrations: [], status: ResponseStatus.E_INVALID_NAMESPACE, statusText: 'namespace must be 1-255 bytes' }
    let after = 0
    if (req.cookie !== undefined) {
      const cookie = this.#readCookie(req.cookie, ns)
      if (cookie === 'invalid') return { registrations: [], status: ResponseStatus.E_INVALID_COOKIE, statusText: 'cookie is for another namespace or malformed' }
      after = cookie
    }
    const wanted = req.limit === undefined || req.limit === 0n ? this.#maxDiscoverLimit : Math.min(Number(req.limit), this.#maxDiscoverLimit)
    const { registrations, last } = this.#store.list(ns, after, wanted)
    const now = Date.now()
    return {
      status: ResponseStatus.OK,
      cookie: this.#cookie(ns, last),
      registrations: registrations.map(r => ({ ns: r.ns, signedPeerRecord: r.signedPeerRecord, ttl: BigInt(Math.max(1, Math.floor((r.expiresAt - now) / 1000))) }))
    }
  }

  #cookie (ns: string | undefined, seq: number): Uint8Array {
    const nsBytes = utf8Encode(ns ?? '')
    const out = new Uint8Array(EPOCH_BYTES + SEQ_BYTES + nsBytes.length)
    out.set(this.#epoch, 0)
    new DataView(out.buffer).setBigUint64(EPOCH_BYTES, BigInt(seq))
    out.set(nsBytes, EPOCH_BYTES + SEQ_BYTES)
    return out
  }

  /** The sequence number to continue after, or 'invalid'; a cookie of an earlier run starts over. */
  #readCookie (cookie: Uint8Array, ns: string | undefined): number | 'invalid' {
    if (cookie.length < EPOCH_BYTES + SEQ_BYTES) return 'invalid'
    if (utf8Decode(cookie.subarray(EPOCH_BYTES + SEQ_BYTES)) !== (ns ?? '')) return 'invalid'
    if (!equalBytes(cookie.subarray(0, EPOCH_BYTES), this.#epoch)) return 0
    return Number(new DataView(cookie.buffer, cookie.byteOffset, cookie.byteLength).getBigUint64(EPOCH_BYTES))
  }
}

function validNamespace (ns: string): boolean {
  const length = utf8Encode(ns).length
  return length > 0 && length <= MAX_NAMESPACE_LENGTH
}

/** Service factory: `services: { rendezvousServer: rendezvousServer() }`. */
export function rendezvousServer (options: RendezvousServerOptions = {}): (components: RendezvousServerComponents) => RendezvousServer {
  return (components) => new RendezvousServer(components, options)
}
