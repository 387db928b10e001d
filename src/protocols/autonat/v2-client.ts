/**
 * The AutoNAT v2 client (autonat-v2.md): asks one server to dial one of our addresses and
 * trusts a "dialed you" only when a dial-back carried the nonce of this request.
 *
 * - The nonce is random per request and remembered until the request ends; the dial-back
 *   handler acknowledges only a nonce we are waiting for (the server may dial back under
 *   another peer id, so the peer id proves nothing; the nonce does).
 * - A server's dial-data request is paid only up to `maxDialDataBytes` (default 100 kB, the
 *   spec's upper bound) and only for an address we sent; otherwise the stream is reset.
 * - proto3 zero values: a response without a status is E_INTERNAL_ERROR, not OK; an OK without
 *   a dialStatus is UNUSED and is discarded; E_DIAL_BACK_ERROR is inconclusive unless our
 *   nonce arrived all the same.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Connection } from '../../interface/connection.ts'
import type { Logger } from '../../interface/logger.ts'
import type { Stream } from '../../interface/stream.ts'
import { closeOrAbort, Deadline } from '../../util/deadline.ts'
import { InvalidMessageError, UnexpectedEOFError } from '../../util/errors.ts'
import { StreamReader, writeLP } from '../../util/stream-reader.ts'
import { AutoNATResponseError, DialDataRefusedError, NonceMismatchError } from './errors.ts'
import {
  decodeDialBack, decodeV2Message, DIAL_DATA_CHUNK, DIAL_REQUEST_PROTOCOL, DialStatus, encodeDialBackResponse,
  encodeV2Message, MAX_MESSAGE_SIZE, MAX_REQUEST_ADDRS, ResponseStatus
} from './v2-messages.ts'
import type { AutoNATv2Message } from './v2-messages.ts'
import type { AutoNATComponents } from './components.ts'

export interface AutoNATv2ClientOptions {
  /** Largest dial-data request we pay, in bytes (default 100000). */
  maxDialDataBytes?: number
  /** One request, open to answer, including dial data and the server's dial-back (default 30 s). */
  requestTimeout?: number
  /** Reading the nonce on an incoming dial-back stream (default 5 s). */
  dialBackTimeout?: number
}

/** One server's answer about one address. */
export interface AddrCheckResult {
  /** The address the server chose (one of those asked about). */
  addr: Multiaddr
  /** Its index in the request. */
  index: number
  /** 'public': the dial-back with our nonce arrived; 'private': the server could not connect;
   * 'unknown': it connected but the nonce exchange failed (no evidence either way). */
  reachability: 'public' | 'private' | 'unknown'
}

/** A request waiting for its dial-back: whether it came, and on which of our addresses. */
interface Pending { dialedBack: boolean, localAddr?: Multiaddr }

/** A random 64-bit nonce (crypto.getRandomValues: in Node and browsers alike). */
function randomNonce (): bigint {
  const words = crypto.getRandomValues(new Uint32Array(2))
  return (BigInt(words[0]) << 32n) | BigInt(words[1])
}

export class AutoNATv2Client {
  readonly #components: AutoNATComponents
  readonly #log: Logger
  readonly #maxDialData: number
  readonly #requestTimeout: number
  readonly #dialBackTimeout: number
  readonly #pending = new Map<bigint, Pending>()
  readonly #shutdown = new AbortController()
  /** Dial-data bytes we send: the same zero chunk every time (its content does not matter). */
  readonly #chunk = new Uint8Array(DIAL_DATA_CHUNK)
  /** What the client did (diagnostics and tests). */
  readonly stats = { requests: 0, dialDataBytesSent: 0, dialBacksAcknowledged: 0 }

  constructor (components: AutoNATComponents, options: AutoNATv2ClientOptions = {}) {
    this.#components = components
    this.#log = components.logger('autonat:v2:client')
    this.#maxDialData = options.maxDialDataBytes ?? 100_000
    this.#requestTimeout = options.requestTimeout ?? 30_000
    this.#dialBackTimeout = options.dialBackTimeout ?? 5_000
  }

  stop (): void {
    this.#shutdown.abort()
  }

  /** Requests waiting for a dial-back (bounded by the requests in flight). */
  get pendingRequests (): number { return this.#pending.size }

  /**
   * Asks the server at the other end of `connection` to dial one of `addrs` (in priority
   * order). Throws AutoNATResponseError when the server gives no dial outcome,
   * DialDataRefusedError when it wants more than we pay, NonceMismatchError when it claims a
   * dial-back we never received.
   */
  async check (connection: Connection, addrs: Multiaddr[], options: { signal?: AbortSignal } = {}): Promise<AddrCheckResult> {
    if (addrs.length === 0 || addrs.length > MAX_REQUEST_ADDRS) throw new InvalidMessageError(`a dial request carries 1 to ${MAX_REQUEST_ADDRS} addresses, not ${addrs.length}`)
    const deadline = new Deadline(this.#requestTimeout, [options.signal, this.#shutdown.signal], 'the autonat v2 request timed out')
    let nonce = randomNonce()
    while (this.#pending.has(nonce)) nonce = randomNonce()
    const pending: Pending = { dialedBack: false }
    this.#pending.set(nonce, pending)
    let stream: Stream | undefined
    try {
      const signal = deadline.signal
      stream = await connection.newStream(DIAL_REQUEST_PROTOCOL, { signal })
      this.stats.requests++
      await writeLP(stream, encodeV2Message({ type: 'dialRequest', dialRequest: { addrs: addrs.map(a => a.bytes), nonce } }), { signal })
      const reader = new StreamReader(stream)
      let message = await readMessage(reader, signal)
      if (message.type === 'dialDataRequest') {
        const { addrIdx, numBytes } = message.dialDataRequest
        if (addrIdx >= addrs.length) throw new DialDataRefusedError(`the server asked for dial data for address ${addrIdx} of ${addrs.length}`)
        if (numBytes > this.#maxDialData) throw new DialDataRefusedError(`the server asked for ${numBytes} bytes of dial data (we pay at most ${this.#maxDialData})`)
        await this.#sendDialData(stream, numBytes, signal)
        message = await readMessage(reader, signal)
      }
      if (message.type !== 'dialResponse') throw new InvalidMessageError(`expected a dial response, got ${message.type}`)
      const { status, addrIdx, dialStatus } = message.dialResponse
      if (status !== ResponseStatus.OK) throw new AutoNATResponseError(`the server answered ${statusName(status)}`, status)
      if (addrIdx >= addrs.length) throw new InvalidMessageError(`the server reported address ${addrIdx} of ${addrs.length}`)
      const addr = addrs[addrIdx]
      await closeOrAbort(stream, 1_000)
      switch (dialStatus) {
        case DialStatus.OK:
          if (!pending.dialedBack) throw new NonceMismatchError(`${connection.remotePeer.toString()} reported a dial-back to ${addr.toString()} that never delivered our nonce`)
          // The spec's own check: the dial-back must have arrived over the transport of the
          // address the server claims it dialed (a server cannot vouch for TCP by dialing QUIC).
          if (!sameTransport(pending.localAddr, addr)) throw new NonceMismatchError(`the dial-back for ${addr.toString()} arrived on ${pending.localAddr?.toString() ?? 'an unknown address'}`)
          return { addr, index: addrIdx, reachability: 'public' }
        case DialStatus.E_DIAL_ERROR:
          return { addr, index: addrIdx, reachability: 'private' }
        case DialStatus.E_DIAL_BACK_ERROR:
          // The server connected but says the nonce exchange failed; if our nonce did arrive,
          // the address is reachable all the same (go reads it the same way).
          return { addr, index: addrIdx, reachability: pending.dialedBack ? 'public' : 'unknown' }
        default:
          throw new InvalidMessageError(`an OK response with dial status ${dialStatus}`)
      }
    } catch (err) {
      stream?.abort(err as Error)
      throw err
    } finally {
      deadline.clear()
      this.#pending.delete(nonce)
    }
  }

  /** Sends `numBytes` of dial data in chunks of at most 4096 bytes (the spec's chunk size). */
  async #sendDialData (stream: Stream, numBytes: number, signal: AbortSignal): Promise<void> {
    const frame = encodeV2Message({ type: 'dialDataResponse', dialDataResponse: { data: this.#chunk } })
    let sent = 0
    while (sent < numBytes) {
      // The last chunk may overshoot: the spec lets servers accept more than they asked for,
      // and one prepared frame serves every request.
      await writeLP(stream, frame, { signal })
      sent += this.#chunk.length
      this.stats.dialDataBytesSent += this.#chunk.length
    }
  }

  /** The `/libp2p/autonat/2/dial-back` handler: acknowledges only a nonce we wait for. */
  readonly handleDialBack = (stream: Stream, connection: Connection): void => {
    void (async () => {
      const deadline = new Deadline(this.#dialBackTimeout, this.#shutdown.signal, 'the dial-back stream timed out')
      try {
        const frame = await new StreamReader(stream).readLP({ maxLength: MAX_MESSAGE_SIZE, signal: deadline.signal })
        if (frame === null) throw new UnexpectedEOFError('the dial-back stream ended without a nonce')
        const { nonce } = decodeDialBack(frame)
        const pending = this.#pending.get(nonce)
        if (pending === undefined) throw new NonceMismatchError(`a dial-back from ${connection.remotePeer.toString()} carried a nonce we never sent`)
        pending.dialedBack = true
        pending.localAddr = connection.localAddr
        this.stats.dialBacksAcknowledged++
        await writeLP(stream, encodeDialBackResponse(), { signal: deadline.signal })
        await closeOrAbort(stream, 1_000)
      } catch (err) {
        this.#log('dial-back from %s refused: %s', connection.remotePeer, (err as Error).message)
        stream.abort(err as Error)
      } finally {
        deadline.clear()
      }
    })()
  }
}

/**
 * True when our end of the dial-back connection speaks the same IP version and transport
 * (tcp/udp and the protocols above, e.g. /ws, /quic-v1) as the address it is meant to prove.
 * Unknown local addresses (transports that cannot tell) pass.
 */
function sameTransport (local: Multiaddr | undefined, addr: Multiaddr): boolean {
  if (local === undefined) return true
  const names = (a: Multiaddr): string[] => a.getComponents().filter(c => c.name !== 'p2p' && c.name !== 'certhash' && c.name !== 'sni').map(c => c.name)
  const [l, r] = [names(local), names(addr)]
  const family = (n: string): string => n === 'dns4' ? 'ip4' : n === 'dns6' ? 'ip6' : n
  if (r[0] !== 'dns' && r[0] !== 'dnsaddr' && family(l[0]) !== family(r[0])) return false
  return l.length === r.length && l.slice(1).every((n, i) => n === r[i + 1])
}

function statusName (status: number): string {
  for (const [name, value] of Object.entries(ResponseStatus)) if (value === status) return name
  return `unknown status ${status}`
}

async function readMessage (reader: StreamReader, signal: AbortSignal): Promise<AutoNATv2Message> {
  const frame = await reader.readLP({ maxLength: MAX_MESSAGE_SIZE, signal })
  if (frame === null) throw new UnexpectedEOFError('the autonat v2 stream ended before a message')
  return decodeV2Message(frame)
}
