/**
 * The fetch protocol (`/libp2p/fetch/0.0.1`, specs fetch/README.md): a key-value lookup on
 * another peer, one request per stream. Applications register lookup functions under key
 * prefixes; a request goes to the function of the longest registered prefix of its key.
 *
 *   node.services.fetch.registerLookupFunction('/record/', async (key) => store.get(key))
 *   const value = await other.services.fetch.fetch(node.peerId, '/record/abc')  // undefined: NOT_FOUND
 *
 * Answers: OK with the value; NOT_FOUND when no prefix matches or the lookup has no value
 * (the spec's two statuses); ERROR (2, as js-libp2p sends) when the lookup throws or its value
 * is over `maxValueBytes`. Keys, values, lookups and whole exchanges are bounded.
 */
import type { AbortOptions } from '../../interface/common.ts'
import type { NodeComponents, Startable } from '../../interface/components.ts'
import type { Logger } from '../../interface/logger.ts'
import type { PeerId } from '../../interface/peer-id.ts'
import type { Stream } from '../../interface/stream.ts'
import { withDeadline } from '../../util/deadline.ts'
import { InvalidParametersError, Libp2pError } from '../../util/errors.ts'
import { readLP, writeLP } from '../../util/stream-reader.ts'
import { utf8Decode, utf8Encode } from '../../util/bytes.ts'
import { resolveConnection, type ProtocolTarget } from '../connection-target.ts'
import { FETCH_PROTOCOL, FetchStatus, decodeFetchRequest, decodeFetchResponse, encodeFetchRequest, encodeFetchResponse } from './messages.ts'

/** The remote's lookup failed (status ERROR); the message is the remote's, cut to 256 characters. */
export class FetchRemoteError extends Libp2pError {
  static readonly code = 'ERR_FETCH_REMOTE'
  constructor (message: string = 'The remote lookup failed', options?: ErrorOptions) {
    super(message, FetchRemoteError.code, options)
    this.name = 'FetchRemoteError'
  }
}

export type LookupFunction = (key: Uint8Array, context: { peer: PeerId }) => Uint8Array | undefined | Promise<Uint8Array | undefined>

export interface FetchOptions {
  protocol?: string
  /** Budget of one exchange, both roles, in ms (default 10 s). */
  timeout?: number
  /** Longest key accepted or sent (default 4 KiB). */
  maxKeyBytes?: number
  /** Largest value served or accepted (default 4 MiB). */
  maxValueBytes?: number
  maxInboundStreams?: number
  maxOutboundStreams?: number
  runOnLimitedConnection?: boolean
}

export type FetchComponents = Pick<NodeComponents, 'registrar' | 'connectionManager' | 'logger'>

/** Room for the response's field tags and length prefixes around the value. */
const RESPONSE_OVERHEAD = 16
const MAX_ERROR_MESSAGE = 256

function startsWith (key: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > key.length) return false
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false
  return true
}

const toBytes = (key: string | Uint8Array): Uint8Array => typeof key === 'string' ? utf8Encode(key) : key

export class FetchService implements Startable {
  readonly serviceCapabilities: readonly string[] = ['@libp2p/fetch']
  readonly protocol: string
  readonly #components: FetchComponents
  readonly #options: FetchOptions
  readonly #log: Logger
  /** Registered prefixes, longest first. */
  #lookups: Array<{ prefix: string, bytes: Uint8Array, lookup: LookupFunction }> = []

  constructor (components: FetchComponents, options: FetchOptions = {}) {
    this.#components = components
    this.#options = options
    this.#log = components.logger('fetch')
    this.protocol = options.protocol ?? FETCH_PROTOCOL
  }

  get #timeout (): number { return this.#options.timeout ?? 10_000 }
  get #maxKey (): number { return this.#options.maxKeyBytes ?? 4096 }
  get #maxValue (): number { return this.#options.maxValueBytes ?? 4 * 1024 * 1024 }

  start (): void {
    this.#components.registrar.handle(this.protocol, (stream, connection) => {
      void this.#serve(stream, connection.remotePeer)
    }, {
      maxInboundStreams: this.#options.maxInboundStreams ?? 32,
      maxOutboundStreams: this.#options.maxOutboundStreams ?? 32,
      runOnLimitedConnection: this.#options.runOnLimitedConnection ?? false
    })
  }

  stop (): void {
    this.#components.registrar.unhandle(this.protocol)
  }

  /** Serves keys that start with `prefix` with `lookup`; a prefix is registered once. */
  registerLookupFunction (prefix: string, lookup: LookupFunction): void {
    if (this.#lookups.some(l => l.prefix === prefix)) throw new InvalidParametersError(`a fetch lookup for prefix ${JSON.stringify(prefix)} is already registered`)
    this.#lookups.push({ prefix, bytes: utf8Encode(prefix), lookup })
    this.#lookups.sort((a, b) => b.bytes.length - a.bytes.length)
  }

  /** Removes the lookup of `prefix` (only if it is `lookup`, when given). */
  unregisterLookupFunction (prefix: string, lookup?: LookupFunction): void {
    this.#lookups = this.#lookups.filter(l => l.prefix !== prefix || (lookup !== undefined && l.lookup !== lookup))
  }

  async #serve (stream: Stream, peer: PeerId): Promise<void> {
    try {
      await withDeadline(this.#timeout, undefined, `fetch exchange with ${peer} timed out`, async (signal) => {
        const key = decodeFetchRequest(await readLP(stream, { maxLength: this.#maxKey + RESPONSE_OVERHEAD, signal }))
        if (key.length > this.#maxKey) throw new InvalidParametersError(`fetch key of ${key.length} bytes`)
        const entry = this.#lookups.find(l => startsWith(key, l.bytes))
        let status: FetchStatus = FetchStatus.NOT_FOUND
        let data: Uint8Array = new Uint8Array(0)
        if (entry !== undefined) {
          try {
            const value = await entry.lookup(key, { peer })
            if (value !== undefined && value.length > this.#maxValue) {
              status = FetchStatus.ERROR
              data = utf8Encode(`value of ${value.length} bytes exceeds the ${this.#maxValue} byte limit`)
            } else if (value !== undefined) {
              status = FetchStatus.OK
              data = value
            }
          } catch (err) {
            this.#log('lookup under %s failed: %s', entry.prefix, (err as Error).message)
            status = FetchStatus.ERROR
            data = utf8Encode(String((err as Error).message).slice(0, MAX_ERROR_MESSAGE))
          }
        }
        await writeLP(stream, encodeFetchResponse({ status, data }), { signal })
        await stream.close({ signal })
      })
    } catch (err) {
      this.#log('fetch request from %s failed: %s', peer, (err as Error).message)
      stream.abort(err as Error)
    }
  }

  /**
   * Asks `target` for the value of `key`: the value, or undefined when the peer has none
   * (NOT_FOUND). Throws FetchRemoteError when its lookup failed.
   */
  async fetch (target: ProtocolTarget, key: string | Uint8Array, options: AbortOptions = {}): Promise<Uint8Array | undefined> {
    const identifier = toBytes(key)
    if (identifier.length > this.#maxKey) throw new InvalidParametersError(`fetch key of ${identifier.length} bytes exceeds ${this.#maxKey}`)
    return await withDeadline(this.#timeout, options.signal, `fetch timed out after ${this.#timeout} ms`, async (signal) => {
      const connection = await resolveConnection(this.#components.connectionManager, target, signal)
      const stream = await connection.newStream(this.protocol, { signal, runOnLimitedConnection: this.#options.runOnLimitedConnection })
      try {
        await writeLP(stream, encodeFetchRequest(identifier), { signal })
        await stream.closeWrite({ signal })
        const response = decodeFetchResponse(await readLP(stream, { maxLength: this.#maxValue + RESPONSE_OVERHEAD, signal }))
        await stream.close({ signal })
        if (response.status === FetchStatus.OK) return response.data
        if (response.status === FetchStatus.NOT_FOUND) return undefined
        throw new FetchRemoteError(`remote lookup failed: ${utf8Decode(response.data.subarray(0, MAX_ERROR_MESSAGE))}`)
      } catch (err) {
        stream.abort(err as Error)
        throw err
      }
    })
  }
}

/** Service factory: `services: { fetch: fetch() }`. */
export function fetch (options: FetchOptions = {}): (components: FetchComponents) => FetchService {
  return (components) => new FetchService(components, options)
}
