/**
 * The receive path of a QUIC connection (RFC 9000 12, 17; RFC 9001 5): a datagram split into
 * its coalesced packets (which must share a destination id), header protection removed, the
 * payload opened with the keys of its space (or the other key phase's), packets whose keys are
 * not there yet held back (bounded), duplicates dropped, the frames handed to the connection,
 * and the acknowledgement owed noted (at once for Initial and Handshake packets; for 1-RTT
 * after two ack-eliciting packets or max_ack_delay).
 *
 * It decides nothing about what a frame means: the connection does (`ReceiveHost.onFrame`),
 * and it owns the state this reads and the reactions to special packets (Retry, version
 * negotiation, a stateless reset, a key update).
 */
import { QuicDecodeError, QuicProtocolError } from './errors.ts'
import type { PacketSpace } from './packet-space.ts'
import { SPACE_APPLICATION, SPACE_HANDSHAKE, SPACE_INITIAL } from './recovery.ts'
import { QuicReader } from './varint.ts'
import { allowedInHandshakePackets, decodeFrame, isAckEliciting } from './frames.ts'
import type { Frame } from './frames.ts'
import { checkReservedBits, parseHeader, removeHeaderProtection } from './packet.ts'
import type { PacketHeader } from './packet.ts'
import type { KeyPhase } from './key-phase.ts'
import type { ConnectionState } from './connection-init.ts'
import type { QuicRole } from './crypto/types.ts'
import { bytesEqual } from './remote-cids.ts'
import { logger } from '../../util/logger.ts'

const log = logger('quic:connection')

/** Undecryptable packets buffered per level while its keys are on their way. */
const MAX_PENDING_PACKETS = 16
/** Our max_ack_delay (ms): the longest we hold an acknowledgement of 1-RTT packets. */
export const DEFAULT_MAX_ACK_DELAY = 25

/** What the receive path needs of its connection. */
export interface ReceiveHost {
  readonly role: QuicRole
  readonly localCid: Uint8Array
  readonly spaces: readonly PacketSpace[]
  readonly state: ConnectionState
  readonly isClosed: boolean
  readonly keys: KeyPhase
  /** Whether any packet of the remote decrypted and parsed so far. */
  readonly receivedAny: boolean
  /** CONNECTION_CLOSEs sent since closing began. */
  readonly closeSends: number
  countReceived(bytes: number): void
  scheduleSend(): void
  /** A datagram was processed at `now` (the idle timer restarts). */
  onActivity(now: number): void
  /** A transport error found while receiving: close the connection with it. */
  closeWithError(err: QuicProtocolError | QuicDecodeError): void
  onVersionNegotiation(header: PacketHeader): void
  onRetry(datagram: Uint8Array, header: PacketHeader): void
  /** A short-header packet that failed to open: maybe a stateless reset. */
  checkStatelessReset(datagram: Uint8Array): void
  /** A 1-RTT packet with the other Key Phase bit: opened with the previous or next keys. */
  openOtherPhase(pn: number, header: Uint8Array, ciphertext: Uint8Array): Uint8Array
  /** The first packet of the remote that opened (`header`: its header). */
  onFirstPacket(header: PacketHeader): void
  /** Server: a Handshake packet opened, so the client owns its address. */
  onHandshakePacket(): void
  onFrame(frame: Frame, space: number): void
}

export class PacketReceiver {
  readonly #host: ReceiveHost

  constructor (host: ReceiveHost) {
    this.#host = host
  }

  /** One UDP datagram from the remote. `replay`: a buffered packet coming back. */
  receiveDatagram (datagram: Uint8Array, replay: boolean): void {
    const host = this.#host
    if (host.state === 'closed') return
    if (!replay) host.countReceived(datagram.length)
    if (host.state === 'draining') return
    if (host.state === 'closing') {
      // Answer with our CONNECTION_CLOSE again, a few times at most (RFC 9000 10.2.1).
      if (host.closeSends < 4) host.scheduleSend()
      return
    }
    let offset = 0
    let firstDcid: Uint8Array | undefined
    while (offset < datagram.length) {
      let header: PacketHeader
      try {
        header = parseHeader(datagram, offset, host.localCid.length)
      } catch (err) {
        log('dropping the rest of a datagram: %s', err)
        break
      }
      offset = header.end
      // Coalesced packets must share the destination id (RFC 9000 12.2).
      if (firstDcid === undefined) firstDcid = header.dcid
      else if (!bytesEqual(firstDcid, header.dcid)) continue
      try {
        this.#receivePacket(datagram, header)
      } catch (err) {
        if (err instanceof QuicProtocolError || err instanceof QuicDecodeError) {
          host.closeWithError(err)
          return
        }
        throw err
      }
      if (host.isClosed) return
    }
    host.onActivity(performance.now())
    host.scheduleSend()
  }

  #receivePacket (datagram: Uint8Array, header: PacketHeader): void {
    const host = this.#host
    switch (header.type) {
      case 'version_negotiation': { host.onVersionNegotiation(header); return }
      case 'retry': { host.onRetry(datagram, header); return }
      case 'unknown_version': case 'zero_rtt': return
      default: break
    }
    const spaceId = header.type === 'initial' ? SPACE_INITIAL : header.type === 'handshake' ? SPACE_HANDSHAKE : SPACE_APPLICATION
    const space = host.spaces[spaceId]
    if (space.discarded) return
    if (space.read === undefined || (spaceId === SPACE_APPLICATION && host.state === 'handshaking')) {
      if (space.pending.length < MAX_PENDING_PACKETS) space.pending.push({ datagram: datagram.slice(header.start, header.end) })
      return
    }
    let unprotected
    let plaintext: Uint8Array
    try {
      unprotected = removeHeaderProtection(datagram, header, space.read, space.received.max)
      const headerBytes = datagram.subarray(header.start, unprotected.payloadOffset)
      const ciphertext = datagram.subarray(unprotected.payloadOffset, header.end)
      if (spaceId === SPACE_APPLICATION && ((unprotected.firstByte & 0x04) !== 0) !== host.keys.bit) {
        // A late packet of the phase that ended, or the remote's next key update.
        plaintext = host.openOtherPhase(unprotected.packetNumber, headerBytes, ciphertext)
      } else {
        plaintext = space.read.open(unprotected.packetNumber, headerBytes, ciphertext)
        if (spaceId === SPACE_APPLICATION) host.keys.onCurrentPacket(unprotected.packetNumber)
      }
    } catch (err) {
      if (err instanceof QuicDecodeError) return
      if ((err as Error).name === 'PacketDecryptionError') {
        if (header.type === 'short') host.checkStatelessReset(datagram)
        return
      }
      throw err
    }
    checkReservedBits(unprotected.firstByte, header.type !== 'short')
    const pn = unprotected.packetNumber
    // A duplicate, or older than anything still remembered: drop it (the sender resends what
    // it carried if it needs to).
    if (space.received.has(pn) || pn < space.received.min) return
    if (!host.receivedAny) host.onFirstPacket(header)
    if (host.role === 'server' && spaceId === SPACE_HANDSHAKE) host.onHandshakePacket()
    let ackEliciting = false
    const r = new QuicReader(plaintext)
    if (r.remaining === 0) throw new QuicProtocolError('packet without frames')
    while (r.remaining > 0) {
      const frame = decodeFrame(r)
      if (spaceId !== SPACE_APPLICATION && !allowedInHandshakePackets(frame)) throw new QuicProtocolError(`${frame.type} frame in a ${header.type} packet`)
      if (isAckEliciting(frame)) ackEliciting = true
      host.onFrame(frame, spaceId)
      if (host.isClosed) return
    }
    const now = performance.now()
    if (pn > space.received.max) space.largestReceivedTime = now
    space.received.add(pn)
    space.ackDirty = true
    if (ackEliciting) {
      space.ackElicitingSinceAck++
      // Handshake packets are acknowledged at once; 1-RTT ones every second packet or after
      // max_ack_delay (RFC 9000 13.2.1).
      if (space.ackDeadline === 0) space.ackDeadline = spaceId === SPACE_APPLICATION ? now + DEFAULT_MAX_ACK_DELAY : now
    }
  }
}
