/**
 * The AutoNAT v2 server (autonat-v2.md): a peer asks us to dial ONE of its addresses and tell
 * it whether that worked, proven by a nonce we deliver over the dial-back.
 *
 * What it guards against, and how:
 * - Being a scanner or amplifier: a request budget (./rate-limiter.ts), only public addresses
 *   (by util/multiaddr's one classifier, with the node's public CIDRs) that one of our
 *   transports can dial, no relayed addresses,
 *   and the dial-data cost: when the address's IP differs from the IP the request came from,
 *   the client must first send us 30-100 kB (chosen at random) before we dial anyone.
 * - Accidental hole punches: the dial-back is a fresh outgoing connection (never the request's
 *   connection) from a socket of its own (`separateSocket`: an ephemeral port, not our listen
 *   port, not TCP's shared dial port, not QUIC's listen socket, whose earlier traffic to the
 *   client would let the dial-back through the client's NAT and prove nothing).
 * - Relayed requesters: refused with E_REQUEST_REJECTED. The handler runs on limited
 *   connections only to say so (a silent reset would look like a broken server).
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Connection } from '../../interface/connection.ts'
import type { Logger } from '../../interface/logger.ts'
import type { Stream } from '../../interface/stream.ts'
import { closeOrAbort, Deadline } from '../../util/deadline.ts'
import { ipOf, isRelayed, peerIdStringOf } from '../../util/multiaddr.ts'
import { StreamReader, writeLP } from '../../util/stream-reader.ts'
import { InvalidMessageError, UnexpectedEOFError } from '../../util/errors.ts'
import { RequestRateLimiter } from './rate-limiter.ts'
import type { RateLimits } from './rate-limiter.ts'
import {
  decodeDialBackResponse, decodeV2Message, DIAL_BACK_PROTOCOL, DialBackStatus, DialStatus, encodeDialBack,
  encodeV2Message, MAX_MESSAGE_SIZE, ResponseStatus
} from './v2-messages.ts'
import type { AutoNATv2Message, DialResponse } from './v2-messages.ts'
import type { AutoNATComponents } from './components.ts'

export interface AutoNATv2ServerOptions {
  /** Request budget (go's defaults: 60/min, 12/min per peer, 12 dial-data/min, 2 at once per peer). */
  rateLimits?: RateLimits
  /** Dial data asked for when the address's IP is not the requester's: [min, max] bytes (default 30000-100000, the spec's range). */
  dialDataBytes?: [number, number]
  /** Whole request, reading to answering (default 15 s). */
  requestTimeout?: number
  /** Dialing the address back (default 10 s). */
  dialBackTimeout?: number
  /** The dial-back stream, nonce to acknowledgement (default 5 s). */
  dialBackStreamTimeout?: number
  /** The clock (tests use a fake one). */
  now?(): number
}

export class AutoNATv2Server {
  readonly #components: AutoNATComponents
  readonly #log: Logger
  readonly #limiter: RequestRateLimiter
  readonly #dialData: [number, number]
  readonly #requestTimeout: number
  readonly #dialBackTimeout: number
  readonly #dialBackStreamTimeout: number
  readonly #shutdown = new AbortController()
  /** What the server did (diagnostics and tests). */
  readonly stats = { requests: 0, rejected: 0, dialDataRequests: 0, dialBacks: 0 }

  constructor (components: AutoNATComponents, options: AutoNATv2ServerOptions = {}) {
    this.#components = components
    this.#log = components.logger('autonat:v2:server')
    this.#limiter = new RequestRateLimiter(options.rateLimits, options.now)
    this.#dialData = options.dialDataBytes ?? [30_000, 100_000]
    this.#requestTimeout = options.requestTimeout ?? 15_000
    this.#dialBackTimeout = options.dialBackTimeout ?? 10_000
    this.#dialBackStreamTimeout = options.dialBackStreamTimeout ?? 5_000
  }

  stop (): void {
    this.#shutdown.abort()
  }

  /** The `/libp2p/autonat/2/dial-request` handler. */
  readonly handle = (stream: Stream, connection: Connection): void => {
    void this.#serve(stream, connection).catch(err => {
      this.#log('request from %s failed: %s', connection.remotePeer, (err as Error).message)
      stream.abort(err as Error)
    })
  }

  async #serve (stream: Stream, connection: Connection): Promise<void> {
    const deadline = new Deadline(this.#requestTimeout, this.#shutdown.signal, 'the autonat v2 request timed out')
    const peer = connection.remotePeer.toString()
    let accepted = false
    try {
      const signal = deadline.signal
      const reader = new StreamReader(stream)
      const request = await readMessage(reader, signal)
      if (request.type !== 'dialRequest') throw new InvalidMessageError(`expected a dial request, got ${request.type}`)
      this.stats.requests++
      const respond = async (response: DialResponse): Promise<void> => {
        await writeLP(stream, encodeV2Message({ type: 'dialResponse', dialResponse: response }), { signal })
        await closeOrAbort(stream, 1_000)
      }
      const refusal = this.#limiter.admit(connection)
      if (refusal !== undefined) {
        this.#log('refusing %s: %s', peer, refusal === 'relayed' ? 'the request came over a limited (relayed) connection' : 'rate limited')
        this.stats.rejected++
        await respond({ status: ResponseStatus.E_REQUEST_REJECTED, addrIdx: 0, dialStatus: DialStatus.UNUSED })
        return
      }
      accepted = true
      const chosen = this.#chooseAddr(request.dialRequest.addrs, peer)
      if (chosen === undefined) {
        await respond({ status: ResponseStatus.E_DIAL_REFUSED, addrIdx: 0, dialStatus: DialStatus.UNUSED })
        return
      }
      const observedIp = ipOf(connection.remoteAddr)
      if (observedIp === undefined || ipOf(chosen.addr) !== observedIp) {
        if (!this.#limiter.acceptDialData()) {
          await respond({ status: ResponseStatus.E_REQUEST_REJECTED, addrIdx: 0, dialStatus: DialStatus.UNUSED })
          return
        }
        await this.#collectDialData(stream, reader, chosen.index, signal)
      }
      const dialStatus = await this.#dialBack(chosen.addr, connection, request.dialRequest.nonce, signal)
      await respond({ status: ResponseStatus.OK, addrIdx: chosen.index, dialStatus })
    } finally {
      deadline.clear()
      if (accepted) this.#limiter.release(peer)
    }
  }

  /**
   * The first address we are willing and able to dial: parses, is not relayed, names no other
   * peer, is public (a private one would make us probe the requester's or our own LAN), and one
   * of our transports dials it. An address we cannot dial is skipped, not answered with a
   * failed dial-back, which the client would take as evidence that it is unreachable.
   */
  #chooseAddr (addrs: Uint8Array[], peer: string): { addr: Multiaddr, index: number } | undefined {
    for (let index = 0; index < addrs.length; index++) {
      let addr: Multiaddr
      try {
        addr = multiaddr(addrs[index])
      } catch {
        continue
      }
      if (isRelayed(addr) || ipOf(addr) === undefined) continue
      const named = peerIdStringOf(addr)
      if (named !== undefined && named !== peer) continue
      if (this.#components.addressManager.reachabilityOf(addr) !== 'public') continue
      if (this.#components.connectionManager.canDial?.(addr) === false) continue
      return { addr, index }
    }
    return undefined
  }

  /** Asks for dial data and reads until at least that many data bytes arrived. */
  async #collectDialData (stream: Stream, reader: StreamReader, addrIdx: number, signal: AbortSignal): Promise<void> {
    const [min, max] = this.#dialData
    const numBytes = min + Math.floor(Math.random() * (max - min + 1))
    await writeLP(stream, encodeV2Message({ type: 'dialDataRequest', dialDataRequest: { addrIdx, numBytes } }), { signal })
    this.stats.dialDataRequests++
    let received = 0
    while (received < numBytes) {
      const message = await readMessage(reader, signal)
      if (message.type !== 'dialDataResponse') throw new InvalidMessageError(`expected dial data, got ${message.type}`)
      // An empty chunk makes no progress: a peer sending them would hold the slot forever.
      if (message.dialDataResponse.data.length === 0) throw new InvalidMessageError('empty dial data chunk')
      received += message.dialDataResponse.data.length
    }
  }

  /** Dials `addr` on a fresh connection, delivers the nonce, and reports the DialStatus. */
  async #dialBack (addr: Multiaddr, requestConnection: Connection, nonce: bigint, signal: AbortSignal): Promise<number> {
    const target = peerIdStringOf(addr) === undefined ? addr.encapsulate(`/p2p/${requestConnection.remotePeer.toString()}`) : addr
    this.stats.dialBacks++
    const dial = new Deadline(this.#dialBackTimeout, signal, 'the dial-back timed out')
    let connection: Connection
    try {
      connection = await this.#components.connectionManager.openConnection(target, { force: true, separateSocket: true, signal: dial.signal })
    } catch (err) {
      this.#log('dial-back to %s failed: %s', addr, (err as Error).message)
      return DialStatus.E_DIAL_ERROR
    } finally {
      dial.clear()
    }
    const streamDeadline = new Deadline(this.#dialBackStreamTimeout, signal, 'the dial-back stream timed out')
    try {
      const stream = await connection.newStream(DIAL_BACK_PROTOCOL, { signal: streamDeadline.signal })
      await writeLP(stream, encodeDialBack(nonce), { signal: streamDeadline.signal })
      const reply = await new StreamReader(stream).readLP({ maxLength: MAX_MESSAGE_SIZE, signal: streamDeadline.signal })
      if (reply === null) throw new UnexpectedEOFError('the dial-back stream ended without a response')
      if (decodeDialBackResponse(reply).status !== DialBackStatus.OK) throw new InvalidMessageError('the dial-back was not acknowledged')
      await closeOrAbort(stream, 1_000)
      return DialStatus.OK
    } catch (err) {
      this.#log('dial-back stream to %s failed: %s', addr, (err as Error).message)
      return DialStatus.E_DIAL_BACK_ERROR
    } finally {
      streamDeadline.clear()
      // The dial-back connection served its purpose; closing it also keeps an accidental
      // second connection from lingering next to the request's own.
      await connection.close().catch(err => { connection.abort(err as Error) })
    }
  }
}

async function readMessage (reader: StreamReader, signal: AbortSignal): Promise<AutoNATv2Message> {
  const frame = await reader.readLP({ maxLength: MAX_MESSAGE_SIZE, signal })
  if (frame === null) throw new UnexpectedEOFError('the autonat v2 stream ended before a message')
  return decodeV2Message(frame)
}
