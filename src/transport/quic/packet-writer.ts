/**
 * Builds a connection's outgoing datagrams: which frames go into which packet of which space,
 * coalescing Initial, Handshake and 1-RTT packets into one datagram during the handshake,
 * padding datagrams with Initial packets to 1200 bytes (RFC 9000 14.1), ACKs piggybacked on
 * every packet of their space, congestion control, pacing and the 3x anti-amplification limit
 * (RFC 9000 8.1), PTO probes, and PMTU discovery (RFC 9000 14.3: probes of growing size; past
 * 1452 bytes only on loopback, where IP never fragments a datagram the interface carries). The
 * probes wait until the connection first fills a datagram with 1-RTT data: larger datagrams
 * only help bulk transfers, and a short connection (a dial and a ping) would otherwise seal,
 * send, open and acknowledge ~26 KiB of probes on each side.
 *
 * Frames are written into one plaintext buffer shared by every connection (a send pass runs to
 * its end synchronously); sealing gives a fresh ciphertext and the header is a small fresh
 * array, so the socket gets [header, ciphertext, ...] with no copy.
 */
import type { QuicConnection } from './connection.ts'
import type { PacketSpace } from './packet-space.ts'
import type { SentFrame } from './sent-frame.ts'
import { SPACE_APPLICATION, SPACE_HANDSHAKE, SPACE_INITIAL } from './recovery.ts'
import {
  connectionCloseLength, cryptoFrameOverhead, writeAck, writeConnectionClose, writeCrypto, writeHandshakeDone,
  writeMaxData, writeMaxStreamData, writeMaxStreams, writePathFrame, writePing, writeResetStream, writeRetireConnectionId, writeStopSending
} from './frames.ts'
import { AEAD_TAG_LENGTH, packetNumberLength, writeLongHeader, writeShortHeader } from './packet.ts'
import { COMMON_DATAGRAM_SIZE, INITIAL_DATAGRAM_SIZE } from './config.ts'
import { varintLength } from './varint.ts'

/** Our ack_delay_exponent (the default, 3: the field counts units of 8 us). */
const ACK_DELAY_EXPONENT = 3
/** Datagrams built per send pass before yielding to the event loop (receives get their turn). */
const MAX_DATAGRAMS_PER_PASS = 64
/** Smallest room worth starting a packet in. */
const MIN_PACKET_ROOM = 48
/**
 * Plaintext of the packet being built. One for all connections: a packet is written and sealed
 * (which copies it out) within one synchronous call, and a per-connection 64 KiB buffer cost a
 * zero-filled allocation per connection.
 */
const PAYLOAD = new Uint8Array(65536)

export class PacketWriter {
  readonly #conn: QuicConnection
  readonly #payload = PAYLOAD
  #handshakeDonePending = false
  readonly #probes = [0, 0, 0]
  #datagramSize = INITIAL_DATAGRAM_SIZE
  #pmtuLadder: number[] = []
  #pmtuProbeInFlight = 0
  /** A datagram full of 1-RTT data went out: PMTU discovery may start. */
  #bulkSeen = false
  #pacingAt = 0

  constructor (conn: QuicConnection) {
    this.#conn = conn
  }

  get pacingAt (): number { return this.#pacingAt }
  get datagramSize (): number { return this.#datagramSize }

  queueHandshakeDone (): void { this.#handshakeDonePending = true }
  queueProbe (space: number): void { this.#probes[space] = Math.min(2, this.#probes[space] + 1) }

  startPmtuDiscovery (peerMaxUdpPayload: number): void {
    const cap = Math.min(peerMaxUdpPayload, this.#conn.config.maxUdpPayloadSize)
    const ladder = [COMMON_DATAGRAM_SIZE]
    if (this.#conn.loopback) ladder.push(8192, this.#conn.config.maxLoopbackDatagramSize)
    this.#pmtuLadder = ladder.filter(size => size <= cap && size > this.#datagramSize)
  }

  onProbeAcked (size: number): void {
    this.#pmtuProbeInFlight = 0
    if (size > this.#datagramSize) {
      this.#datagramSize = size
      this.#conn.recovery.setMaxDatagramSize(size)
    }
  }

  onProbeLost (_size: number): void {
    // The path does not carry it: stop climbing (a lost probe is not congestion).
    this.#pmtuProbeInFlight = 0
    this.#pmtuLadder = []
  }

  /** Sends what is due; returns the number of datagrams sent. */
  write (now: number): number {
    const conn = this.#conn
    if (conn.pendingClose !== undefined) {
      this.#writeClose()
      return 1
    }
    let count = 0
    this.#pacingAt = 0
    while (count < MAX_DATAGRAMS_PER_PASS) {
      if (!this.#writeDatagram(now)) break
      count++
    }
    if (count === MAX_DATAGRAMS_PER_PASS) conn.scheduleSend()
    else if (this.#bulkSeen && this.#pmtuLadder.length > 0 && this.#pmtuProbeInFlight === 0 && conn.handshakeConfirmed && conn.spaces[SPACE_APPLICATION].write !== undefined) {
      this.#writeProbeDatagram(now)
      count++
    }
    return count
  }

  #spaceHasData (i: number, now: number, elicitingAllowed: boolean): boolean {
    const s = this.#conn.spaces[i]
    if (s.write === undefined) return false
    if (s.ackDirty && s.ackDeadline !== 0 && (now >= s.ackDeadline || s.ackElicitingSinceAck >= 2 || i !== SPACE_APPLICATION)) return true
    if (this.#probes[i] > 0) return true
    if (!elicitingAllowed) return false
    if (s.hasCryptoToSend) return true
    if (i !== SPACE_APPLICATION) return false
    return this.#appHasData()
  }

  #appHasData (): boolean {
    const conn = this.#conn
    if (conn.state !== 'established') return false
    return this.#handshakeDonePending || this.#hasConnectionControl() || conn.streams.hasReady()
  }

  #hasConnectionControl (): boolean {
    return this.#conn.streams.controlPending || this.#conn.hasPathOrRetire
  }

  #writeDatagram (now: number): boolean {
    const conn = this.#conn
    const recovery = conn.recovery
    const max = Math.min(this.#datagramSize, conn.sendBudget)
    if (max < MIN_PACKET_ROOM) return false
    let elicitingAllowed = recovery.canSend(this.#datagramSize)
    if (elicitingAllowed) {
      const delay = recovery.pacingDelay(this.#datagramSize, now)
      if (delay > 0) {
        this.#pacingAt = now + delay
        elicitingAllowed = false
      }
    }
    const parts: Uint8Array[] = []
    let size = 0
    let hasInitial = false
    let ackElicitingInitial = false
    for (let i = SPACE_INITIAL; i <= SPACE_APPLICATION; i++) {
      if (!this.#spaceHasData(i, now, elicitingAllowed)) continue
      let later = false
      for (let j = i + 1; j <= SPACE_APPLICATION; j++) if (this.#spaceHasData(j, now, elicitingAllowed)) later = true
      if (i === SPACE_INITIAL) hasInitial = true
      // The last packet of a datagram that carries an Initial pads it to 1200 bytes.
      const padTo = !later && (hasInitial && (conn.role === 'client' || ackElicitingInitial || i === SPACE_INITIAL)) ? INITIAL_DATAGRAM_SIZE : 0
      const result = this.#writePacket(i, parts, size, max, now, elicitingAllowed, padTo)
      if (result === undefined) continue
      size += result.size
      if (i === SPACE_INITIAL && result.ackEliciting) ackElicitingInitial = true
      if (i === SPACE_HANDSHAKE) conn.onHandshakePacketSent()
    }
    if (parts.length === 0) return false
    if (!hasInitial && size + MIN_PACKET_ROOM > this.#datagramSize && conn.handshakeConfirmed) this.#bulkSeen = true
    conn.sendDatagram(parts, size)
    return true
  }

  /** Writes one packet of space `i` after `used` bytes of the datagram; undefined when empty. */
  #writePacket (i: number, parts: Uint8Array[], used: number, max: number, now: number, elicitingAllowed: boolean, padTo: number): { size: number, ackEliciting: boolean } | undefined {
    const conn = this.#conn
    const space = conn.spaces[i]
    const write = space.write
    if (write === undefined) return undefined
    const pn = space.nextPn
    const pnLength = packetNumberLength(pn, conn.recovery.spaces[i].largestAcked)
    const long = i !== SPACE_APPLICATION
    const token = i === SPACE_INITIAL && conn.role === 'client' ? conn.token : undefined
    const headerLength = long
      ? 7 + conn.remoteCid.length + conn.localCid.length + (i === SPACE_INITIAL ? varintLength(token?.length ?? 0) + (token?.length ?? 0) : 0) + 2 + pnLength
      : 1 + conn.remoteCid.length + pnLength
    // Long-header packets stay under 16384 bytes so their length field is two bytes.
    const limit = Math.min(max - used - headerLength - AEAD_TAG_LENGTH, long ? 16000 : Infinity)
    if (limit < 8) return undefined
    const buf = this.#payload
    const frames: SentFrame[] = []
    let p = 0
    let ackEliciting = false
    if (space.ackDirty && !space.received.isEmpty) {
      const ranges = space.received.descending()
      const delay = Math.max(0, Math.floor((now - space.largestReceivedTime) * 1000 / 2 ** ACK_DELAY_EXPONENT))
      const end = writeAck(buf, p, limit, ranges, i === SPACE_APPLICATION ? delay : 0)
      if (end > p) {
        p = end
        space.ackDirty = false
        space.ackElicitingSinceAck = 0
        space.ackDeadline = 0
      }
    }
    if (elicitingAllowed) {
      const before = p
      p = this.#writeCrypto(space, i, buf, p, limit, frames)
      if (i === SPACE_APPLICATION && conn.state === 'established') p = this.#writeAppFrames(buf, p, limit, frames)
      if (p > before) ackEliciting = true
    }
    if (!ackEliciting && this.#probes[i] > 0 && p < limit) {
      p = writePing(buf, p)
      frames.push({ kind: 'ping' })
      ackEliciting = true
    }
    if (ackEliciting && this.#probes[i] > 0) this.#probes[i]--
    if (p === 0) return undefined
    // Room for the header protection sample (RFC 9001 5.4.2), and the 1200-byte padding.
    let minPayload = 4 - pnLength
    if (padTo > 0) minPayload = Math.max(minPayload, padTo - used - headerLength - AEAD_TAG_LENGTH)
    if (p < minPayload) {
      buf.fill(0, p, minPayload)
      p = minPayload
    }
    const header = new Uint8Array(headerLength)
    const pnEnd = long
      ? writeLongHeader(header, 0, i === SPACE_INITIAL ? 'initial' : 'handshake', conn.remoteCid, conn.localCid, token, pn, pnLength, p + AEAD_TAG_LENGTH)
      : writeShortHeader(header, 0, conn.remoteCid, conn.keyPhase, pn, pnLength)
    const headerView = pnEnd === header.length ? header : header.subarray(0, pnEnd)
    const ciphertext = write.seal(pn, headerView, buf.subarray(0, p))
    const mask = write.headerProtectionMask(ciphertext.subarray(4 - pnLength, 20 - pnLength))
    headerView[0] ^= mask[0] & (long ? 0x0f : 0x1f)
    const pnOffset = pnEnd - pnLength
    for (let k = 0; k < pnLength; k++) headerView[pnOffset + k] ^= mask[1 + k]
    parts.push(headerView, ciphertext)
    space.nextPn++
    const size = headerView.length + ciphertext.length
    conn.recovery.onPacketSent(i, { pn, time: now, size, ackEliciting, inFlight: ackEliciting || padTo > 0, frames })
    return { size, ackEliciting }
  }

  #writeCrypto (space: PacketSpace, level: number, buf: Uint8Array, p: number, limit: number, frames: SentFrame[]): number {
    while (space.hasCryptoToSend) {
      const room = limit - p - cryptoFrameOverhead(1 << 20, limit)
      const chunk = space.nextCrypto(room)
      if (chunk === undefined) break
      p = writeCrypto(buf, p, chunk.offset, chunk.data)
      frames.push({ kind: 'crypto', level, offset: chunk.offset, length: chunk.data.length })
    }
    return p
  }

  #writeAppFrames (buf: Uint8Array, p: number, limit: number, frames: SentFrame[]): number {
    const conn = this.#conn
    const streams = conn.streams
    if (this.#handshakeDonePending && p + 1 <= limit) {
      p = writeHandshakeDone(buf, p)
      frames.push({ kind: 'handshake_done' })
      this.#handshakeDonePending = false
    }
    // Connection-level control: 9 bytes each at most.
    while (p + 20 <= limit) {
      const maxData = streams.takeMaxData()
      if (maxData !== undefined) { p = writeMaxData(buf, p, maxData); frames.push({ kind: 'max_data' }); continue }
      const maxStreams = streams.takeMaxStreams()
      if (maxStreams !== undefined) { p = writeMaxStreams(buf, p, true, maxStreams); frames.push({ kind: 'max_streams' }); continue }
      const retire = conn.takeRetire()
      if (retire !== undefined) { p = writeRetireConnectionId(buf, p, retire); continue }
      const challenge = conn.takePathResponse()
      if (challenge !== undefined) { p = writePathFrame(buf, p, true, challenge); continue }
      break
    }
    // Streams, round robin: one frame per stream per turn.
    while (limit - p > 24) {
      const stream = streams.nextReady()
      if (stream === undefined) break
      const control = stream.takeControl()
      if (control !== undefined) {
        if (control === 'reset_stream') p = writeResetStream(buf, p, stream.quicId, stream.resetCode ?? 0, stream.resetFinalSize)
        else if (control === 'stop_sending') p = writeStopSending(buf, p, stream.quicId, 0)
        else p = writeMaxStreamData(buf, p, stream.quicId, stream.advertisedLimit)
        frames.push({ kind: control, stream })
        streams.requeue(stream)
        continue
      }
      const { end, newBytes } = stream.writeStreamFrame(buf, p, limit, streams.connectionCredit, frames)
      if (end === p) {
        // Nothing fits in what is left of this packet: try again in the next one.
        streams.wake(stream)
        break
      }
      p = end
      streams.chargeSend(newBytes)
      streams.requeue(stream)
    }
    return p
  }

  #writeClose (): void {
    const conn = this.#conn
    const close = conn.pendingClose!
    const reason = new TextEncoder().encode(close.reason)
    const parts: Uint8Array[] = []
    let size = 0
    const now = performance.now()
    for (let i = SPACE_INITIAL; i <= SPACE_APPLICATION; i++) {
      const space = conn.spaces[i]
      if (space.write === undefined) continue
      // An application close is only readable in 1-RTT packets (RFC 9000 10.2.3).
      const application = close.application && i === SPACE_APPLICATION
      const code = close.application && !application ? 0x0c : close.code
      const buf = this.#payload
      const p = writeConnectionClose(buf, 0, application, code, 0, reason.length + connectionCloseLength(application, code, 0, reason) < 1000 ? reason : new Uint8Array(0))
      const result = this.#sealRaw(i, buf, p, parts, size, conn.role === 'client' && i === SPACE_INITIAL ? INITIAL_DATAGRAM_SIZE : 0, now)
      size += result
    }
    if (parts.length > 0) conn.sendDatagram(parts, size)
    conn.onCloseSent()
  }

  /** Seals an already written payload as one packet of space `i` (not tracked by recovery). */
  #sealRaw (i: number, buf: Uint8Array, p: number, parts: Uint8Array[], used: number, padTo: number, now: number): number {
    const conn = this.#conn
    const space = conn.spaces[i]
    const write = space.write!
    const pn = space.nextPn++
    const pnLength = 4
    const long = i !== SPACE_APPLICATION
    const token = i === SPACE_INITIAL && conn.role === 'client' ? conn.token : undefined
    const headerLength = long
      ? 7 + conn.remoteCid.length + conn.localCid.length + (i === SPACE_INITIAL ? varintLength(token?.length ?? 0) + (token?.length ?? 0) : 0) + 2 + pnLength
      : 1 + conn.remoteCid.length + pnLength
    const minPayload = Math.max(4, padTo - used - headerLength - AEAD_TAG_LENGTH)
    if (p < minPayload) { buf.fill(0, p, minPayload); p = minPayload }
    const header = new Uint8Array(headerLength)
    const pnEnd = long
      ? writeLongHeader(header, 0, i === SPACE_INITIAL ? 'initial' : 'handshake', conn.remoteCid, conn.localCid, token, pn, pnLength, p + AEAD_TAG_LENGTH)
      : writeShortHeader(header, 0, conn.remoteCid, conn.keyPhase, pn, pnLength)
    const headerView = header.subarray(0, pnEnd)
    const ciphertext = write.seal(pn, headerView, buf.subarray(0, p))
    const mask = write.headerProtectionMask(ciphertext.subarray(4 - pnLength, 20 - pnLength))
    headerView[0] ^= mask[0] & (long ? 0x0f : 0x1f)
    for (let k = 0; k < pnLength; k++) headerView[pnEnd - pnLength + k] ^= mask[1 + k]
    parts.push(headerView, ciphertext)
    void now
    return headerView.length + ciphertext.length
  }

  /** A PMTU probe: one 1-RTT packet of PING and PADDING of exactly the next ladder size. */
  #writeProbeDatagram (now: number): void {
    const conn = this.#conn
    const size = this.#pmtuLadder.shift()!
    const space = conn.spaces[SPACE_APPLICATION]
    const write = space.write!
    const pn = space.nextPn
    const pnLength = packetNumberLength(pn, conn.recovery.spaces[SPACE_APPLICATION].largestAcked)
    const headerLength = 1 + conn.remoteCid.length + pnLength
    const payloadLength = size - headerLength - AEAD_TAG_LENGTH
    const buf = this.#payload
    writePing(buf, 0)
    buf.fill(0, 1, payloadLength)
    const header = new Uint8Array(headerLength)
    writeShortHeader(header, 0, conn.remoteCid, conn.keyPhase, pn, pnLength)
    const ciphertext = write.seal(pn, header, buf.subarray(0, payloadLength))
    const mask = write.headerProtectionMask(ciphertext.subarray(4 - pnLength, 20 - pnLength))
    header[0] ^= mask[0] & 0x1f
    for (let k = 0; k < pnLength; k++) header[headerLength - pnLength + k] ^= mask[1 + k]
    space.nextPn++
    this.#pmtuProbeInFlight = size
    // Not in flight: a lost probe says nothing about congestion (RFC 9000 14.4).
    conn.recovery.onPacketSent(SPACE_APPLICATION, { pn, time: now, size, ackEliciting: true, inFlight: false, frames: [{ kind: 'pmtu_probe', size }] })
    conn.sendDatagram([header, ciphertext], size)
  }
}
