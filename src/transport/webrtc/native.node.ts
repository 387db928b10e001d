/**
 * node-datachannel (libdatachannel bindings), loaded on first use because it is an optional
 * dependency: without it WebRTC Direct fails with WebRTCUnavailableError naming the package,
 * and nothing else in the node is affected. Also the adapters from its channel and peer
 * connection objects to the stream layer's DataChannelLike / PeerConnectionLike.
 *
 * Traps (LAB.md): a peer connection that is not closed explicitly is never collected, and
 * `cleanup()` would close every connection of the process, so we never call it. Known leak
 * left open: now and then a data channel object never gets its close callback even after we
 * close it and its peer connection, and node-datachannel then keeps the process from exiting
 * (seen in about one run in four of test/interop/webrtc-direct.test.ts); the tests call
 * `cleanup()` at the end of their own process.
 */
import type * as Ndc from 'node-datachannel'
import type { DataChannelEvents, DataChannelLike, PeerConnectionLike } from './data-channel.ts'
import { WebRTCConnectionError, WebRTCUnavailableError } from './errors.ts'

export type NodeDatachannel = typeof Ndc
export type NdcPeerConnection = Ndc.PeerConnection
export type NdcDataChannel = Ndc.DataChannel

let loaded: Promise<NodeDatachannel> | undefined

export async function loadNodeDatachannel (): Promise<NodeDatachannel> {
  loaded ??= import('node-datachannel').then(
    m => (m as unknown as { default?: NodeDatachannel }).default ?? (m as unknown as NodeDatachannel),
    (err: unknown) => {
      loaded = undefined
      throw new WebRTCUnavailableError('WebRTC Direct in Node needs the optional dependency node-datachannel (npm install node-datachannel)', { cause: err })
    })
  return await loaded
}

/** Adapts a channel of `pc` (tracked so closing `pc` closes it, see trackChannel). */
export function fromNdcDataChannel (pc: NdcPeerConnection, channel: NdcDataChannel): DataChannelLike {
  const untrack = trackChannel(pc, channel)
  let events: DataChannelEvents | undefined
  let open = channel.isOpen()
  let closed = false
  // Messages that arrive before the stream is wired (a remote writes right after opening).
  let early: Uint8Array[] | undefined = []
  channel.onOpen(() => { open = true; events?.onOpen() })
  channel.onMessage((msg) => {
    const bytes = typeof msg === 'string'
      ? new TextEncoder().encode(msg)
      : msg instanceof ArrayBuffer ? new Uint8Array(msg) : new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength)
    if (events !== undefined) events.onMessage(bytes)
    else if (early !== undefined && early.length < 64) early.push(bytes)
    else channel.close()
  })
  channel.onBufferedAmountLow(() => { events?.onBufferedAmountLow() })
  channel.onClosed(() => {
    untrack()
    if (closed) return
    closed = true
    open = false
    events?.onClose()
  })
  channel.onError(() => {
    untrack()
    if (closed) return
    closed = true
    open = false
    events?.onClose()
  })
  return {
    get id () { return channel.getId() },
    get isOpen () { return open && !closed },
    get bufferedAmount () { return closed ? 0 : channel.bufferedAmount() },
    setBufferedAmountLowThreshold (bytes: number) { channel.setBufferedAmountLowThreshold(bytes) },
    send (data: Uint8Array) {
      if (!open || closed) throw new WebRTCConnectionError('the data channel is not open')
      channel.sendMessageBinary(data)
    },
    close () {
      if (closed) return
      try { channel.close() } catch {}
    },
    setEvents (e: DataChannelEvents) {
      events = e
      const queued = early ?? []
      early = undefined
      for (const m of queued) e.onMessage(m)
    }
  }
}

const channelsOf = new WeakMap<NdcPeerConnection, Set<NdcDataChannel>>()

/**
 * Remembers a channel of `pc`. node-datachannel keeps the process alive for every channel
 * object whose close callback it never delivered, and after its peer connection closed it
 * sometimes never delivers it: closing each channel ourselves releases it.
 */
function trackChannel (pc: NdcPeerConnection, channel: NdcDataChannel): () => void {
  let set = channelsOf.get(pc)
  if (set === undefined) {
    set = new Set()
    channelsOf.set(pc, set)
  }
  set.add(channel)
  return () => { set.delete(channel) }
}

/**
 * Closes every channel of `pc`, then `pc` itself (safe to call more than once). Channels still
 * tracked once the peer connection reports 'closed' are closed again then: node-datachannel
 * releases a channel object only when it delivers that channel's close.
 */
export function closePeerConnection (pc: NdcPeerConnection): void {
  closeChannels(pc)
  try { pc.close() } catch {}
}

function closeChannels (pc: NdcPeerConnection): void {
  const set = channelsOf.get(pc)
  if (set === undefined) return
  for (const channel of [...set]) {
    try { channel.close() } catch {}
  }
}

type StateListener = (state: string) => void
const stateListeners = new WeakMap<NdcPeerConnection, Set<StateListener>>()

/**
 * Adds a state-change listener. node-datachannel keeps one callback per peer connection (a
 * second `onStateChange` replaces the first), so every user goes through this one fan-out.
 */
export function onPeerConnectionState (pc: NdcPeerConnection, listener: StateListener): () => void {
  let set = stateListeners.get(pc)
  if (set === undefined) {
    const listeners = new Set<StateListener>()
    set = listeners
    stateListeners.set(pc, listeners)
    pc.onStateChange((state) => { for (const l of [...listeners]) l(state) })
  }
  set.add(listener)
  return () => { set.delete(listener) }
}

/** Adapts a node-datachannel peer connection; `close()` releases the native object. */
export function fromNdcPeerConnection (pc: NdcPeerConnection): PeerConnectionLike {
  let closedCb: ((err?: Error) => void) | undefined
  let closed = false
  const fireClosed = (err?: Error): void => {
    if (closed) return
    closed = true
    closedCb?.(err)
  }
  const release = (): void => {
    // Not from inside the native callback that reported the state.
    queueMicrotask(() => { closePeerConnection(pc) })
  }
  onPeerConnectionState(pc, (state) => {
    if (state === 'failed') {
      fireClosed(new WebRTCConnectionError('the peer connection failed'))
      release()
    } else if (state === 'closed' || state === 'disconnected') {
      fireClosed()
      release()
    }
    if (state === 'closed') queueMicrotask(() => { closeChannels(pc) })
  })
  // Channels the remote opens before the muxer is attached wait here (the muxer bounds them).
  let channelCb: ((channel: DataChannelLike) => void) | undefined
  const early: DataChannelLike[] = []
  pc.onDataChannel((dc) => {
    const channel = fromNdcDataChannel(pc, dc)
    if (channelCb !== undefined) channelCb(channel)
    else if (early.length < 32) early.push(channel)
    else channel.close()
  })
  return {
    createDataChannel: () => fromNdcDataChannel(pc, pc.createDataChannel('', { negotiated: false })),
    onDataChannel (cb) {
      channelCb = cb
      for (const c of early.splice(0)) cb(c)
    },
    onClosed (cb) { closedCb = cb },
    close () {
      closePeerConnection(pc)
      fireClosed()
    }
  }
}
