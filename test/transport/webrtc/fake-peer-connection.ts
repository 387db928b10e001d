/**
 * An in-memory pair of peer connections for unit tests of the WebRTC stream layer: messages
 * are delivered on a later microtask, `bufferedAmount` counts bytes sent and not yet delivered
 * (delivery can be paused to build it up), channels open asynchronously, and `close()` reaches
 * the other side as a channel close. Not a WebRTC implementation: the real ones are tested in
 * the WebRTC Direct tests.
 */
import type { DataChannelEvents, DataChannelLike, PeerConnectionLike } from '../../../src/transport/webrtc/data-channel.ts'

export class FakeChannel implements DataChannelLike {
  readonly id: number
  peer!: FakeChannel
  isOpen = false
  bufferedAmount = 0
  threshold = 0
  events: DataChannelEvents | undefined
  closed = false
  paused = false
  readonly #held: Uint8Array[] = []
  /** Every message sent, for assertions on the wire format. */
  readonly sent: Uint8Array[] = []

  constructor (id: number) { this.id = id }

  setBufferedAmountLowThreshold (bytes: number): void { this.threshold = bytes }

  setEvents (events: DataChannelEvents): void {
    this.events = events
  }

  send (data: Uint8Array): void {
    if (!this.isOpen || this.closed) throw new Error('InvalidStateError: channel not open')
    this.sent.push(data)
    this.bufferedAmount += data.length
    this.#held.push(data)
    if (!this.paused) this.#scheduleFlush()
  }

  /** Stops delivery (bufferedAmount grows) until `resume()`. */
  pause (): void { this.paused = true }
  resume (): void { this.paused = false; this.#scheduleFlush() }

  #flushScheduled = false
  #scheduleFlush (): void {
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    queueMicrotask(() => {
      this.#flushScheduled = false
      const before = this.bufferedAmount
      while (!this.paused && this.#held.length > 0) {
        const msg = this.#held.shift()!
        this.bufferedAmount -= msg.length
        if (!this.peer.closed) this.peer.events?.onMessage(msg)
      }
      if (before > this.threshold && this.bufferedAmount <= this.threshold) this.events?.onBufferedAmountLow()
    })
  }

  /** Delivers a raw message to this channel as if the remote had sent it. */
  inject (data: Uint8Array): void { this.events?.onMessage(data) }

  close (): void {
    if (this.closed) return
    // Pending messages are still delivered first, like a real channel's closing procedure.
    this.closed = true
    this.isOpen = false
    queueMicrotask(() => {
      this.events?.onClose()
      if (!this.peer.closed) {
        this.peer.closed = true
        this.peer.isOpen = false
        this.peer.events?.onClose()
      }
    })
  }
}

export class FakePeerConnection implements PeerConnectionLike {
  peer!: FakePeerConnection
  readonly channels: FakeChannel[] = []
  #nextId: number
  #onChannel: ((c: DataChannelLike) => void) | undefined
  #onClosed: ((err?: Error) => void) | undefined
  closed = false

  constructor (firstId: number) { this.#nextId = firstId }

  static pair (): [FakePeerConnection, FakePeerConnection] {
    const a = new FakePeerConnection(0)
    const b = new FakePeerConnection(1)
    a.peer = b
    b.peer = a
    return [a, b]
  }

  createDataChannel (): FakeChannel {
    const id = this.#nextId
    this.#nextId += 2
    const local = new FakeChannel(id)
    const remote = new FakeChannel(id)
    local.peer = remote
    remote.peer = local
    this.channels.push(local)
    this.peer.channels.push(remote)
    queueMicrotask(() => {
      local.isOpen = true
      remote.isOpen = true
      this.peer.#onChannel?.(remote)
      local.events?.onOpen()
    })
    return local
  }

  onDataChannel (cb: (c: DataChannelLike) => void): void { this.#onChannel = cb }
  onClosed (cb: (err?: Error) => void): void { this.#onClosed = cb }

  close (): void {
    if (this.closed) return
    this.closed = true
    for (const c of this.channels) c.close()
    this.#onClosed?.()
    queueMicrotask(() => { this.peer.close() })
  }
}
