/**
 * The client's two hop requests, over a connection to the relay:
 * - `reserve()`: RESERVE, then check the answer: status OK, an expiry in the future, a voucher
 *   (when present) signed by this relay for us and unexpired, and the relay's addresses (each
 *   ending in `/p2p/<relay>`; ones that do not parse are skipped).
 * - `connectThroughRelay()`: CONNECT to a peer; on OK the hop stream is the relayed byte stream.
 * Refusals come back as RelayStatusError with the relay's status.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from '../interface/common.ts'
import type { Connection } from '../interface/connection.ts'
import type { PeerId } from '../interface/peer-id.ts'
import type { Stream } from '../interface/stream.ts'
import { UnexpectedEOFError } from '../util/errors.ts'
import { isRelayed, peerIdStringOf, withoutPeerId } from '../util/multiaddr.ts'
import { StreamReader, writeLP } from '../util/stream-reader.ts'
import { InvalidReservationError, RelayStatusError } from './errors.ts'
import { decodeHopMessage, encodeHopMessage, HOP_PROTOCOL, HopType, MAX_RELAY_MESSAGE_SIZE, RelayStatus } from './messages.ts'
import type { HopMessage, RelayLimit } from './messages.ts'
import { verifyVoucher } from './voucher.ts'

export interface ReservationGrant {
  relay: PeerId
  /** ms since epoch. */
  expires: number
  /** The relay's addresses, each ending in /p2p/<relay> (without /p2p-circuit). */
  relayAddrs: Multiaddr[]
  /** The signed voucher envelope, when the relay sent one (already verified). */
  voucher?: Uint8Array
  /** Limits of circuits to us through this relay (undefined: none). */
  limit?: RelayLimit
}

export interface ReserveOptions extends AbortOptions {
  /** Who we are (the voucher must name us). */
  self: PeerId
  /** ms since epoch now (default Date.now()). */
  now?: number
}

async function request (connection: Connection, message: HopMessage, options: AbortOptions): Promise<{ stream: Stream, answer: HopMessage }> {
  const stream = await connection.newStream(HOP_PROTOCOL, { signal: options.signal, runOnLimitedConnection: true })
  try {
    await writeLP(stream, encodeHopMessage(message), options)
    const reader = new StreamReader(stream)
    const frame = await reader.readLP({ maxLength: MAX_RELAY_MESSAGE_SIZE, signal: options.signal })
    reader.release()
    if (frame === null) throw new UnexpectedEOFError('the relay closed the hop stream without an answer')
    const answer = decodeHopMessage(frame)
    if (answer.type !== HopType.STATUS) throw RelayStatusError.of(RelayStatus.UNEXPECTED_MESSAGE, `the relay answered with hop message type ${answer.type}, not STATUS`)
    if (answer.status !== RelayStatus.OK) throw RelayStatusError.of(answer.status ?? RelayStatus.UNUSED)
    return { stream, answer }
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}

/** Reserves a slot on the relay at the other end of `connection`. */
export async function reserve (connection: Connection, options: ReserveOptions): Promise<ReservationGrant> {
  const relay = connection.remotePeer
  const { stream, answer } = await request(connection, { type: HopType.RESERVE }, options)
  void stream.close().catch(() => {})
  const reservation = answer.reservation
  if (reservation?.expire === undefined) throw new InvalidReservationError('the relay accepted but sent no reservation expiry')
  const now = options.now ?? Date.now()
  const expires = Number(reservation.expire) * 1000
  if (!(expires > now)) throw new InvalidReservationError(`the reservation expiry ${reservation.expire} is not in the future`)
  if (reservation.voucher !== undefined) {
    await verifyVoucher(reservation.voucher, { relay, peer: options.self, nowSeconds: now / 1000 })
  }
  const suffix = `/p2p/${relay.toString()}`
  const relayAddrs: Multiaddr[] = []
  for (const bytes of reservation.addrs) {
    let addr: Multiaddr
    try {
      addr = multiaddr(bytes)
    } catch {
      continue
    }
    if (isRelayed(addr)) continue
    const owner = peerIdStringOf(addr)
    if (owner !== undefined && owner !== relay.toString()) continue
    relayAddrs.push(withoutPeerId(addr).encapsulate(suffix))
  }
  return { relay, expires, relayAddrs, voucher: reservation.voucher, limit: answer.limit }
}

/** Asks the relay to connect us to `target`; the returned stream carries the relayed bytes. */
export async function connectThroughRelay (connection: Connection, target: PeerId, options: AbortOptions = {}): Promise<{ stream: Stream, limit?: RelayLimit }> {
  const { stream, answer } = await request(connection, { type: HopType.CONNECT, peer: { id: target.bytes, addrs: [] } }, options)
  return { stream, limit: answer.limit }
}
