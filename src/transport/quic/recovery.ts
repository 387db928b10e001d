/**
 * Loss detection and congestion control for one QUIC connection (RFC 9002): the RTT estimate,
 * the sent packets of each packet-number space, acknowledgement processing, packet- and
 * time-threshold loss detection, the probe timeout (PTO), NewReno congestion control and a
 * token-bucket pacer.
 *
 * The connection owns the frames; this file only sees sent packets with an opaque `frames`
 * payload and hands them back through `onAcked` / `onLost`. Times are `performance.now()`
 * milliseconds.
 *
 * Congestion avoidance is NewReno's or CUBIC's (cubic.ts), chosen per connection.
 * Not done: persistent congestion (RFC 9002 7.6) and ECN.
 */
import { Cubic } from './cubic.ts'
import type { CongestionControl } from './cubic.ts'

export const SPACE_INITIAL = 0
export const SPACE_HANDSHAKE = 1
export const SPACE_APPLICATION = 2

/** RFC 9002 6.1.1 / 6.1.2. */
const PACKET_THRESHOLD = 3
const TIME_THRESHOLD = 9 / 8
const GRANULARITY = 1
const INITIAL_RTT = 333
/** The congestion window never grows past this: it bounds sent-but-unacked state. */
const MAX_CONGESTION_WINDOW = 64 * 1024 * 1024

export interface SentPacket<F> {
  pn: number
  time: number
  size: number
  ackEliciting: boolean
  inFlight: boolean
  frames: F[]
}

interface SpaceState<F> {
  sent: Array<SentPacket<F>>
  largestAcked: number
  lossTime: number
  lastAckElicitingTime: number
  ackElicitingInFlight: number
  discarded: boolean
}

export interface RecoveryCallbacks<F> {
  onAcked(frames: F[], space: number): void
  onLost(frames: F[], space: number): void
}

export class Recovery<F> {
  latestRtt = 0
  smoothedRtt = INITIAL_RTT
  rttVar = INITIAL_RTT / 2
  minRtt = Infinity
  #hasRttSample = false
  ptoCount = 0
  /** The peer's max_ack_delay (ms), known after the handshake. */
  maxAckDelay = 25
  maxDatagramSize: number
  congestionWindow: number
  ssthresh = Infinity
  bytesInFlight = 0
  #recoveryStart = -Infinity
  #cwndLimited = false
  #tokens: number
  #lastRefill = 0
  readonly spaces: Array<SpaceState<F>>
  readonly #cb: RecoveryCallbacks<F>
  /** CUBIC's state; undefined: NewReno. */
  readonly #cubic: Cubic | undefined

  constructor (maxDatagramSize: number, callbacks: RecoveryCallbacks<F>, congestionControl: CongestionControl = 'newreno') {
    this.#cubic = congestionControl === 'cubic' ? new Cubic() : undefined
    this.maxDatagramSize = maxDatagramSize
    this.congestionWindow = this.#initialWindow()
    this.#tokens = this.congestionWindow
    this.#cb = callbacks
    this.spaces = [0, 1, 2].map(() => ({ sent: [], largestAcked: -1, lossTime: 0, lastAckElicitingTime: 0, ackElicitingInFlight: 0, discarded: false }))
  }

  #initialWindow (): number {
    return Math.min(10 * this.maxDatagramSize, Math.max(14720, 2 * this.maxDatagramSize))
  }

  #minimumWindow (): number { return 2 * this.maxDatagramSize }

  /** Raises the datagram size (PMTU discovery); the window keeps its packet count. */
  setMaxDatagramSize (size: number): void {
    if (size <= this.maxDatagramSize) return
    this.congestionWindow = Math.max(this.congestionWindow, Math.floor(this.congestionWindow * size / this.maxDatagramSize))
    this.maxDatagramSize = size
  }

  get hasRttSample (): boolean { return this.#hasRttSample }

  /** Whether congestion control lets `size` more bytes go out now. */
  canSend (size: number): boolean {
    if (this.bytesInFlight + size <= this.congestionWindow) return true
    this.#cwndLimited = true
    return false
  }

  /**
   * Pacing (RFC 9002 7.7): the delay in ms before `size` bytes may go, 0 when they may go now.
   * A burst of ten datagrams, or of what the rate allows in 8 ms, goes unpaced: timers fire
   * at millisecond granularity at best (later on a busy event loop), so a smaller burst would
   * cap the rate at one burst per timer tick.
   */
  pacingDelay (size: number, now: number): number {
    const rate = 1.25 * this.congestionWindow / Math.max(this.smoothedRtt, 0.05)
    const burst = Math.max(10 * this.maxDatagramSize, size, rate * 8)
    this.#tokens = Math.min(burst, this.#tokens + (now - this.#lastRefill) * rate)
    this.#lastRefill = now
    if (this.#tokens >= size) return 0
    return (size - this.#tokens) / rate
  }

  onPacketSent (space: number, packet: SentPacket<F>): void {
    const s = this.spaces[space]
    if (s.discarded) return
    s.sent.push(packet)
    if (packet.inFlight) {
      this.bytesInFlight += packet.size
      this.#tokens -= packet.size
      if (packet.ackEliciting) {
        s.lastAckElicitingTime = packet.time
        s.ackElicitingInFlight++
      }
    }
  }

  /**
   * Processes an ACK frame's ranges (newest first: [hi0, lo0, hi1, lo1, ...]). `ackDelay` is in
   * ms, already scaled. Returns true when it acknowledged something new.
   */
  onAck (space: number, ranges: readonly number[], ackDelay: number, now: number, handshakeConfirmed: boolean): boolean {
    const s = this.spaces[space]
    const largest = ranges[0]
    if (largest > s.largestAcked) s.largestAcked = largest
    const sent = s.sent
    let newlyAcked = false
    let largestNewlyAcked: SentPacket<F> | undefined
    let anyAckEliciting = false
    // Both lists are ordered: walk the sent packets upwards and the ranges from their low end.
    let rangeIndex = ranges.length - 2
    let write = 0
    for (let read = 0; read < sent.length; read++) {
      const p = sent[read]
      while (rangeIndex >= 0 && p.pn > ranges[rangeIndex]) rangeIndex -= 2
      const acked = rangeIndex >= 0 && p.pn >= ranges[rangeIndex + 1] && p.pn <= ranges[rangeIndex]
      if (!acked) {
        sent[write++] = p
        continue
      }
      newlyAcked = true
      if (largestNewlyAcked === undefined || p.pn > largestNewlyAcked.pn) largestNewlyAcked = p
      if (p.ackEliciting) anyAckEliciting = true
      this.#removeFromFlight(s, p)
      this.#onAckedCc(p, now)
      this.#cb.onAcked(p.frames, space)
    }
    sent.length = write
    if (!newlyAcked) return false
    if (largestNewlyAcked !== undefined && largestNewlyAcked.pn === largest && anyAckEliciting) {
      this.#updateRtt(now - largestNewlyAcked.time, space === SPACE_APPLICATION && handshakeConfirmed ? Math.min(ackDelay, this.maxAckDelay) : 0)
    }
    this.#detectLoss(space, now)
    this.ptoCount = 0
    return true
  }

  #removeFromFlight (s: SpaceState<F>, p: SentPacket<F>): void {
    if (!p.inFlight) return
    this.bytesInFlight -= p.size
    if (p.ackEliciting) s.ackElicitingInFlight--
  }

  #updateRtt (sample: number, ackDelay: number): void {
    this.latestRtt = sample
    if (!this.#hasRttSample) {
      this.#hasRttSample = true
      this.minRtt = sample
      this.smoothedRtt = sample
      this.rttVar = sample / 2
      return
    }
    this.minRtt = Math.min(this.minRtt, sample)
    const adjusted = sample >= this.minRtt + ackDelay ? sample - ackDelay : sample
    this.rttVar = 0.75 * this.rttVar + 0.25 * Math.abs(this.smoothedRtt - adjusted)
    this.smoothedRtt = 0.875 * this.smoothedRtt + 0.125 * adjusted
  }

  #onAckedCc (p: SentPacket<F>, now: number): void {
    if (!p.inFlight || p.time <= this.#recoveryStart) return
    // An application that does not fill the window must not grow it (RFC 9002 7.8).
    if (!this.#cwndLimited && this.bytesInFlight + p.size < this.congestionWindow / 2) return
    if (this.congestionWindow < this.ssthresh) {
      this.congestionWindow += p.size
    } else if (this.#cubic !== undefined) {
      this.congestionWindow = this.#cubic.onAck(this.congestionWindow, p.size, this.maxDatagramSize, now, this.smoothedRtt)
    } else {
      this.congestionWindow += this.maxDatagramSize * p.size / this.congestionWindow
    }
    if (this.congestionWindow > MAX_CONGESTION_WINDOW) this.congestionWindow = MAX_CONGESTION_WINDOW
    this.#cwndLimited = false
  }

  #congestionEvent (timeSent: number, now: number): void {
    if (timeSent <= this.#recoveryStart) return
    this.#recoveryStart = now
    this.ssthresh = this.#cubic !== undefined
      ? this.#cubic.onCongestionEvent(this.congestionWindow, this.maxDatagramSize, this.#minimumWindow())
      : Math.max(Math.floor(this.congestionWindow / 2), this.#minimumWindow())
    this.congestionWindow = this.ssthresh
  }

  #lossDelay (): number {
    return Math.max(TIME_THRESHOLD * Math.max(this.latestRtt, this.smoothedRtt), GRANULARITY)
  }

  #detectLoss (space: number, now: number): void {
    const s = this.spaces[space]
    s.lossTime = 0
    const lossDelay = this.#lossDelay()
    const lostSendTime = now - lossDelay
    const sent = s.sent
    let write = 0
    let latestLostTime = -1
    for (let read = 0; read < sent.length; read++) {
      const p = sent[read]
      if (p.pn > s.largestAcked) { sent[write++] = p; continue }
      if (p.time <= lostSendTime || s.largestAcked >= p.pn + PACKET_THRESHOLD) {
        this.#removeFromFlight(s, p)
        if (p.inFlight && p.time > latestLostTime) latestLostTime = p.time
        this.#cb.onLost(p.frames, space)
      } else {
        const when = p.time + lossDelay
        if (s.lossTime === 0 || when < s.lossTime) s.lossTime = when
        sent[write++] = p
      }
    }
    sent.length = write
    if (latestLostTime >= 0) this.#congestionEvent(latestLostTime, now)
  }

  /** The keys of `space` are gone: its packets neither count in flight nor get retransmitted. */
  discardSpace (space: number): void {
    const s = this.spaces[space]
    for (const p of s.sent) this.#removeFromFlight(s, p)
    s.sent.length = 0
    s.lossTime = 0
    s.lastAckElicitingTime = 0
    s.discarded = true
    this.ptoCount = 0
  }

  /**
   * Forgets every packet of `space` as if never sent, returning their frames to be sent again
   * (a Retry makes the client start its Initial over).
   */
  resetSpace (space: number): void {
    const s = this.spaces[space]
    const sent = s.sent
    s.sent = []
    for (const p of sent) {
      this.#removeFromFlight(s, p)
      this.#cb.onLost(p.frames, space)
    }
    s.lossTime = 0
  }

  #pto (space: number): number {
    const base = this.smoothedRtt + Math.max(4 * this.rttVar, GRANULARITY) + (space === SPACE_APPLICATION ? this.maxAckDelay : 0)
    return base * 2 ** Math.min(this.ptoCount, 16)
  }

  /**
   * When the loss-detection timer should fire and for which space (RFC 9002 6.2 and A.8);
   * undefined when nothing is outstanding. `noProbeSpace` is the anti-deadlock rule: a client
   * that has not finished its handshake arms the PTO even with nothing in flight.
   */
  timer (handshakeConfirmed: boolean, anyAckElicitingExpected: number | undefined, now: number): { time: number, space: number, loss: boolean } | undefined {
    let best: { time: number, space: number, loss: boolean } | undefined
    for (let i = 0; i < 3; i++) {
      const s = this.spaces[i]
      if (s.lossTime !== 0 && (best === undefined || s.lossTime < best.time)) best = { time: s.lossTime, space: i, loss: true }
    }
    if (best !== undefined) return best
    for (let i = 0; i < 3; i++) {
      const s = this.spaces[i]
      if (s.discarded || s.ackElicitingInFlight === 0) continue
      if (i === SPACE_APPLICATION && !handshakeConfirmed) continue
      const t = s.lastAckElicitingTime + this.#pto(i)
      if (best === undefined || t < best.time) best = { time: t, space: i, loss: false }
    }
    if (best === undefined && anyAckElicitingExpected !== undefined) {
      return { time: now + this.#pto(anyAckElicitingExpected), space: anyAckElicitingExpected, loss: false }
    }
    return best
  }

  /** The timer fired: for a loss time, declares losses; for a PTO, counts it (the caller probes). */
  onTimer (t: { space: number, loss: boolean }, now: number): void {
    if (t.loss) {
      this.#detectLoss(t.space, now)
      return
    }
    this.ptoCount++
  }

  /** The oldest unacknowledged ack-eliciting packet of `space`, whose frames a probe resends. */
  oldestUnacked (space: number): SentPacket<F> | undefined {
    for (const p of this.spaces[space].sent) if (p.ackEliciting) return p
    return undefined
  }

  /** Packets outstanding in every space (bounded by the congestion window). */
  get sentCount (): number {
    return this.spaces[0].sent.length + this.spaces[1].sent.length + this.spaces[2].sent.length
  }
}
