/**
 * The AutoNAT v1 server (autonat-v1.md): a peer asks "can you dial me?"; we try its addresses
 * ON THE IP WE SEE IT AT (never another IP: that would make us an amplifier aimed at anyone)
 * and answer OK with the address that worked, or E_DIAL_ERROR.
 *
 * - Requests over limited (relayed) connections are refused (E_DIAL_REFUSED): the spec says
 *   so, and the handler runs there only to say it.
 * - Addresses on another IP are rewritten to the observed IP (keeping their port and
 *   protocols), so a NAT that keeps the listen port (full cone with port preservation) is
 *   found public; private, relayed and unparsable addresses are skipped.
 * - The same request budget as v2 (./rate-limiter.ts); at most 4 addresses dialed, one at a
 *   time, each on a fresh connection.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Connection } from '../../interface/connection.ts'
import type { Logger } from '../../interface/logger.ts'
import type { Stream } from '../../interface/stream.ts'
import { closeOrAbort, Deadline } from '../../util/deadline.ts'
import { equalBytes } from '../../util/bytes.ts'
import { UnexpectedEOFError } from '../../util/errors.ts'
import { ipOf, isRelayed } from '../../util/multiaddr.ts'
import { StreamReader, writeLP } from '../../util/stream-reader.ts'
import { thinWaist } from '../../switch/observed-addrs.ts'
import { RequestRateLimiter } from './rate-limiter.ts'
import type { RateLimits } from './rate-limiter.ts'
import { decodeV1Message, encodeV1Message, MessageType, V1_MAX_MESSAGE_SIZE, V1Status } from './v1-messages.ts'
import type { V1DialResponse } from './v1-messages.ts'
import type { AutoNATComponents } from './components.ts'

export interface AutoNATv1ServerOptions {
  rateLimits?: RateLimits
  /** Addresses dialed per request at most (default 4). */
  maxDials?: number
  /** Whole request (default 30 s). */
  requestTimeout?: number
  /** One dial (default 10 s). */
  dialTimeout?: number
  /** Called with every answer given (metrics, tests): the requester, the status, the address that worked. */
  onServed?(peer: string, status: number, addr?: Multiaddr): void
  now?(): number
}

export class AutoNATv1Server {
  readonly #components: AutoNATComponents
  readonly #log: Logger
  readonly #limiter: RequestRateLimiter
  readonly #maxDials: number
  readonly #requestTimeout: number
  readonly #dialTimeout: number
  readonly #shutdown = new AbortController()
  readonly #onServed: AutoNATv1ServerOptions['onServed']

  constructor (components: AutoNATComponents, options: AutoNATv1ServerOptions = {}) {
    this.#components = components
    this.#log = components.logger('autonat:v1:server')
    this.#limiter = new RequestRateLimiter(options.rateLimits, options.now)
    this.#maxDials = options.maxDials ?? 4
    this.#requestTimeout = options.requestTimeout ?? 30_000
    this.#dialTimeout = options.dialTimeout ?? 10_000
    this.#onServed = options.onServed
  }

  stop (): void {
    this.#shutdown.abort()
  }

  readonly handle = (stream: Stream, connection: Connection): void => {
    void this.#serve(stream, connection).catch(err => {
      this.#log('request from %s failed: %s', connection.remotePeer, (err as Error).message)
      stream.abort(err as Error)
    })
  }

  async #serve (stream: Stream, connection: Connection): Promise<void> {
    const deadline = new Deadline(this.#requestTimeout, this.#shutdown.signal, 'the autonat v1 request timed out')
    const peer = connection.remotePeer.toString()
    let accepted = false
    try {
      const signal = deadline.signal
      const frame = await new StreamReader(stream).readLP({ maxLength: V1_MAX_MESSAGE_SIZE, signal })
      if (frame === null) throw new UnexpectedEOFError('the autonat v1 stream ended before a request')
      const request = decodeV1Message(frame)
      const respond = async (response: V1DialResponse): Promise<void> => {
        await writeLP(stream, encodeV1Message({ type: MessageType.DIAL_RESPONSE, dialResponse: response }), { signal })
        await closeOrAbort(stream, 1_000)
        this.#onServed?.(peer, response.status ?? -1, response.addr === undefined ? undefined : multiaddr(response.addr))
      }
      if (request.type !== MessageType.DIAL || request.dial === undefined) {
        await respond({ status: V1Status.E_BAD_REQUEST, statusText: 'expected a DIAL message' })
        return
      }
      if (request.dial.peerId === undefined || !equalBytes(request.dial.peerId, connection.remotePeer.bytes)) {
        await respond({ status: V1Status.E_BAD_REQUEST, statusText: 'the peer id is not the requester\'s' })
        return
      }
      const refusal = this.#limiter.admit(connection)
      if (refusal !== undefined) {
        await respond({ status: V1Status.E_DIAL_REFUSED, statusText: refusal === 'relayed' ? 'refusing a request over a relayed connection' : 'too many requests' })
        return
      }
      accepted = true
      const addrs = this.#dialable(request.dial.addrs, connection)
      if (addrs.length === 0) {
        await respond({ status: V1Status.E_DIAL_REFUSED, statusText: 'no dialable addresses' })
        return
      }
      for (const addr of addrs) {
        if (await this.#tryDial(addr, connection, signal)) {
          await respond({ status: V1Status.OK, addr: addr.bytes })
          return
        }
      }
      await respond({ status: V1Status.E_DIAL_ERROR, statusText: 'dial failed' })
    } finally {
      deadline.clear()
      if (accepted) this.#limiter.release(peer)
    }
  }

  /** The request's addresses moved onto the observed IP, public ones only, deduplicated, capped. */
  #dialable (raw: Uint8Array[], connection: Connection): Multiaddr[] {
    const observedIp = ipOf(connection.remoteAddr)
    const observedWaist = thinWaist(connection.remoteAddr)
    if (observedIp === undefined || observedWaist === undefined) return []
    const out: Multiaddr[] = []
    const seen = new Set<string>()
    for (const bytes of raw) {
      let addr: Multiaddr
      try {
        addr = multiaddr(bytes)
      } catch {
        continue
      }
      const waist = thinWaist(addr)
      if (waist === undefined || isRelayed(addr) || waist.port === '0' || waist.family !== observedWaist.family) continue
      const rest = addr.getComponents().slice(2).filter(c => c.name !== 'p2p')
      const onObserved = multiaddr(`/${waist.family}/${observedIp}/${waist.transport}/${waist.port}${rest.map(c => c.value === undefined ? `/${c.name}` : `/${c.name}/${c.value}`).join('')}`)
      if (this.#components.addressManager.reachabilityOf(onObserved) !== 'public') continue
      const key = onObserved.toString()
      if (seen.has(key)) continue
      seen.add(key)
      out.push(onObserved)
      if (out.length >= this.#maxDials) break
    }
    return out
  }

  async #tryDial (addr: Multiaddr, requestConnection: Connection, signal: AbortSignal): Promise<boolean> {
    const dial = new Deadline(this.#dialTimeout, signal, 'the autonat v1 dial timed out')
    try {
      const connection = await this.#components.connectionManager.openConnection(addr.encapsulate(`/p2p/${requestConnection.remotePeer.toString()}`), { force: true, separateSocket: true, signal: dial.signal })
      await connection.close().catch(err => { connection.abort(err as Error) })
      return true
    } catch (err) {
      this.#log('dial to %s failed: %s', addr, (err as Error).message)
      return false
    } finally {
      dial.clear()
    }
  }
}
