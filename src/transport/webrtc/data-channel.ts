/**
 * The few things the stream layer needs from a data channel, so the same streams run over a
 * browser's RTCDataChannel and over node-datachannel's native channels (two small adapters).
 */
export interface DataChannelEvents {
  onOpen(): void
  onMessage(data: Uint8Array): void
  onBufferedAmountLow(): void
  onClose(): void
}

export interface DataChannelLike {
  /** The SCTP stream id, once known. */
  readonly id: number
  readonly isOpen: boolean
  /** Bytes queued in the channel and not yet handed to SCTP. */
  readonly bufferedAmount: number
  setBufferedAmountLowThreshold(bytes: number): void
  /** Queues one message; throws when the channel cannot take it (closed). */
  send(data: Uint8Array): void
  close(): void
  /** Installs the event handlers (once). */
  setEvents(events: DataChannelEvents): void
}

/** What the muxer needs from a peer connection. */
export interface PeerConnectionLike {
  /** A new channel with label '' (negotiated in-band), ordered. */
  createDataChannel(): DataChannelLike
  /** Channels the remote opens; installed once. */
  onDataChannel(cb: (channel: DataChannelLike) => void): void
  /** Called once when the peer connection fails or closes. */
  onClosed(cb: (err?: Error) => void): void
  close(): void
}

/** Messages kept for a channel whose stream is not wired yet; a remote sending more is hostile. */
const MAX_EARLY_MESSAGES = 64

/**
 * Adapts a W3C RTCDataChannel (browsers, and any RTCPeerConnection implementation).
 *
 * The handlers go on the channel now, not in `setEvents`: a browser dispatches `message` as a
 * task and drops it when no handler is set then. WebRTC Direct's server sends Noise's first
 * message the moment channel 0 opens, which can be before the dialer has seen its peer
 * connection reach 'connected' and wired the stream; a lost first message stalls the
 * handshake until the dial times out. Messages (bounded) and a close that arrive before
 * `setEvents` are replayed to it.
 */
export function fromRTCDataChannel (channel: RTCDataChannel): DataChannelLike {
  channel.binaryType = 'arraybuffer'
  let events: DataChannelEvents | undefined
  let early: Uint8Array[] | undefined = []
  let closedEarly = false
  const deliver = (bytes: Uint8Array): void => {
    if (events !== undefined) events.onMessage(bytes)
    else if (early !== undefined && early.length < MAX_EARLY_MESSAGES) early.push(bytes)
    else channel.close()
  }
  channel.onopen = () => { events?.onOpen() }
  channel.onmessage = (ev: MessageEvent) => {
    const data: unknown = ev.data
    if (data instanceof ArrayBuffer) deliver(new Uint8Array(data))
    else if (typeof data === 'string') deliver(new TextEncoder().encode(data))
  }
  channel.onbufferedamountlow = () => { events?.onBufferedAmountLow() }
  channel.onclose = () => {
    if (events !== undefined) events.onClose()
    else closedEarly = true
  }
  return {
    get id () { return channel.id ?? -1 },
    get isOpen () { return channel.readyState === 'open' },
    get bufferedAmount () { return channel.bufferedAmount },
    setBufferedAmountLowThreshold (bytes: number) { channel.bufferedAmountLowThreshold = bytes },
    send (data: Uint8Array) { channel.send(data as Uint8Array<ArrayBuffer>) },
    close () { channel.close() },
    setEvents (e: DataChannelEvents) {
      events = e
      const queued = early ?? []
      early = undefined
      for (const m of queued) e.onMessage(m)
      if (closedEarly) e.onClose()
    }
  }
}

/** Adapts a W3C RTCPeerConnection. */
export function fromRTCPeerConnection (pc: RTCPeerConnection): PeerConnectionLike {
  let closedCb: ((err?: Error) => void) | undefined
  let closed = false
  const fireClosed = (err?: Error): void => {
    if (closed) return
    closed = true
    closedCb?.(err)
  }
  pc.addEventListener('connectionstatechange', () => {
    const s = pc.connectionState
    if (s !== 'failed' && s !== 'closed' && s !== 'disconnected') return
    fireClosed(s === 'failed' ? new Error('peer connection failed') : undefined)
    // node-datachannel's polyfill frees its native peer connection only on close()
    if (s !== 'closed') pc.close()
  })
  return {
    createDataChannel: () => fromRTCDataChannel(pc.createDataChannel('')),
    onDataChannel (cb) {
      pc.ondatachannel = (ev) => {
        // /webrtc's initiator opens `init` only to make ICE gather (signaling.ts): not a stream
        if (ev.channel.label === 'init') return
        cb(fromRTCDataChannel(ev.channel))
      }
    },
    onClosed (cb) { closedCb = cb },
    close () { pc.close(); fireClosed() }
  }
}
