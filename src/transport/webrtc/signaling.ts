/**
 * Both sides of `/webrtc-signaling/0.0.1` (specs webrtc/webrtc.md "Connection Establishment")
 * on a W3C RTCPeerConnection, over a stream of an authenticated (usually relayed) connection:
 *
 * - the initiator (the side that opened the stream, the dialer) creates the offer, sends
 *   SDP_OFFER, reads SDP_ANSWER;
 * - the responder reads SDP_OFFER and sends SDP_ANSWER;
 * - both trickle their ICE candidates (ICE_CANDIDATE, the JSON of `RTCIceCandidate.toJSON()`)
 *   and add the other's until the peer connection is `connected`, then close the stream (on
 *   failure they reset it); the initiator sends its candidates only after it applied the answer
 *   (see trickleLocalCandidates).
 *
 * There is no Noise handshake afterwards: the SDP carries each side's DTLS certificate
 * fingerprint, the stream it travelled on was authenticated, and DTLS checks the fingerprint.
 *
 * The initiator also opens a data channel labelled `init` before its offer (an offer needs an
 * application m-line for ICE to gather anything) and closes it once connected, as js-libp2p
 * does; the muxer never takes a channel labelled `init` as a stream.
 */
import type { Stream } from '../../interface/stream.ts'
import { raceSignal } from '../../util/abort.ts'
import { StreamReader, writeLP } from '../../util/stream-reader.ts'
import { unrefTimeout } from '../../util/timers.ts'
import { WebRTCConnectionError, WebRTCSignalingError } from './errors.ts'
import { decodeSignalingMessage, encodeSignalingMessage, MAX_SIGNALING_MESSAGE_LENGTH, parseCandidate, SignalingType } from './signaling-message.ts'
import type { SignalingMessage } from './signaling-message.ts'

/** The label of the initiator's first channel, which only exists to make ICE gather. */
export const INIT_CHANNEL_LABEL = 'init'
/** Remote candidates we add at most (a peer has a few per interface and STUN server). */
const MAX_REMOTE_CANDIDATES = 64
/** How long the initiator waits for its `init` channel to open and close after connecting. */
const INIT_CHANNEL_TIMEOUT = 5_000

/** The signaling stream: LP-framed messages, writes kept in order. */
class SignalingStream {
  readonly #stream: Stream
  readonly #reader: StreamReader
  #writes: Promise<void> = Promise.resolve()
  #writeError: Error | undefined

  constructor (stream: Stream) {
    this.#stream = stream
    this.#reader = new StreamReader(stream)
  }

  /** Queues a message (candidates are sent from event callbacks, which cannot wait). */
  send (message: SignalingMessage, signal: AbortSignal): void {
    this.#writes = this.#writes.then(async () => {
      if (this.#writeError === undefined) await writeLP(this.#stream, encodeSignalingMessage(message), { signal })
    }).catch((err: Error) => { this.#writeError ??= err })
  }

  /** Waits for the queued messages; throws the first write error. */
  async flush (): Promise<void> {
    await this.#writes
    if (this.#writeError !== undefined) throw this.#writeError
  }

  /** The next message, or null when the remote closed its side. */
  async read (signal: AbortSignal): Promise<SignalingMessage | null> {
    const frame = await this.#reader.readLP({ maxLength: MAX_SIGNALING_MESSAGE_LENGTH, signal })
    return frame === null ? null : decodeSignalingMessage(frame)
  }
}

/** Resolves when `pc` is connected; rejects when it fails or closes first. */
export async function peerConnectionConnected (pc: RTCPeerConnection, signal: AbortSignal): Promise<void> {
  let onChange: (() => void) | undefined
  try {
    await raceSignal(new Promise<void>((resolve, reject) => {
      onChange = () => {
        const state = pc.connectionState
        if (state === 'connected') resolve()
        else if (state === 'failed' || state === 'closed') reject(new WebRTCConnectionError(`the peer connection ${state} before it connected`))
      }
      pc.addEventListener('connectionstatechange', onChange)
      onChange()
    }), signal)
  } finally {
    if (onChange !== undefined) pc.removeEventListener('connectionstatechange', onChange)
  }
}

/** Local candidates held until their time comes (a few per interface and STUN server). */
const MAX_HELD_CANDIDATES = 64

interface LocalCandidates {
  /** Sends the held candidates and every later one as it is gathered. */
  release(): void
  stop(): void
}

/**
 * Sends our candidates as they are gathered (until connected), from `release()` on: the
 * responder releases them once its answer is queued (a candidate must not overtake it), the
 * initiator once it has applied the answer (specs webrtc/webrtc.md, steps 6 and 7). A remote
 * that has our candidates starts ICE checks at once, over the direct path, while its answer still travels
 * over the relay; libdatachannel (node-datachannel, also under js-libp2p) then sees ICE
 * connected before it has the remote DTLS fingerprint, starts DTLS without it and the
 * handshake fails: the peer connection goes 'closed' (or 'failed') right after the answer is
 * applied. Measured: in the /webrtc Node-to-Node lab test, the answerer's ICE was connected
 * before the initiator had read the answer, and the initiator's state was 'closed' 2 ms after
 * it applied it (libdatachannel PR 1612 describes the same ordering fault). Holding our
 * candidates keeps the answerer from sending checks before we can complete DTLS; our own
 * checks start as soon as we have the answerer's candidates, which follow its answer.
 */
function trickleLocalCandidates (pc: RTCPeerConnection, channel: SignalingStream, signal: AbortSignal): LocalCandidates {
  let held: string[] | undefined = []
  const send = (data: string): void => { channel.send({ type: SignalingType.ICE_CANDIDATE, data }, signal) }
  const onCandidate = (event: RTCPeerConnectionIceEvent): void => {
    const candidate = event.candidate
    // null / '' mark the end of gathering: the remote needs nothing for it
    if (candidate === null || candidate.candidate === '' || pc.connectionState === 'connected') return
    const data = JSON.stringify(candidate.toJSON())
    if (held === undefined) send(data)
    else if (held.length < MAX_HELD_CANDIDATES) held.push(data)
  }
  pc.addEventListener('icecandidate', onCandidate)
  return {
    release () {
      const queued = held ?? []
      held = undefined
      for (const data of queued) send(data)
    },
    stop () { pc.removeEventListener('icecandidate', onCandidate) }
  }
}

/**
 * Adds the remote's candidates until `pc` is connected. The remote may close its side once it
 * sees the connection up, before we do: then we only wait for our own state.
 */
async function addRemoteCandidatesUntilConnected (pc: RTCPeerConnection, channel: SignalingStream, signal: AbortSignal): Promise<void> {
  const connected = peerConnectionConnected(pc, signal)
  // (the race below may leave it unobserved when a read fails first)
  connected.catch(() => {})
  const reads = new AbortController()
  const readSignal = AbortSignal.any([signal, reads.signal])
  let added = 0
  try {
    while (true) {
      const read = channel.read(readSignal)
      // (dropped unread when the connection wins the race)
      read.catch(() => {})
      const next = await Promise.race([connected.then(() => 'connected' as const), read])
      if (next === 'connected') return
      if (next === null) {
        await connected
        return
      }
      if (next.type !== SignalingType.ICE_CANDIDATE) throw new WebRTCSignalingError(`signaling message of type ${next.type} where ICE candidates were expected`)
      const candidate = parseCandidate(next.data)
      if (candidate === null) continue
      if (++added > MAX_REMOTE_CANDIDATES) throw new WebRTCSignalingError(`more than ${MAX_REMOTE_CANDIDATES} ICE candidates`)
      try {
        await pc.addIceCandidate(candidate)
      } catch {
        // A candidate this side cannot use (another address family, an unresolvable mDNS
        // name) is not an error of the exchange: ICE goes on with the others.
      }
    }
  } finally {
    // a read still pending on the stream is dropped with it
    reads.abort()
  }
}

export interface InitiateResult {
  /** The `init` channel, closed once the connection is up (see closeInitChannel). */
  initChannel: RTCDataChannel
}

/** The initiator's side: offer, answer, candidates, until `pc` is connected. */
export async function initiateSignaling (pc: RTCPeerConnection, stream: Stream, signal: AbortSignal): Promise<InitiateResult> {
  const channel = new SignalingStream(stream)
  const initChannel = pc.createDataChannel(INIT_CHANNEL_LABEL)
  const local = trickleLocalCandidates(pc, channel, signal)
  try {
    const offer = await pc.createOffer()
    await pc.setLocalDescription(offer)
    channel.send({ type: SignalingType.SDP_OFFER, data: offer.sdp ?? '' }, signal)
    await channel.flush()
    const answer = await channel.read(signal)
    if (answer === null) throw new WebRTCSignalingError('the signaling stream ended before the SDP answer')
    if (answer.type !== SignalingType.SDP_ANSWER) throw new WebRTCSignalingError(`signaling message of type ${answer.type} where the SDP answer was expected`)
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.data })
    local.release()
    await addRemoteCandidatesUntilConnected(pc, channel, signal)
    return { initChannel }
  } catch (err) {
    initChannel.close()
    throw err
  } finally {
    local.stop()
  }
}

/**
 * The responder's side: the offer, our answer, candidates, until `pc` is connected.
 *
 * `answerDelivered`, when given, is called once our answer is written and resolves when the
 * initiator has most likely applied it (a round trip on the connection that carried it, see
 * webrtc.ts); only then do we add its candidates, unless the peer connection is connected
 * first. An initiator that trickles candidates before it has our answer (js-libp2p's does,
 * though webrtc.md's step 7 comes after step 6) would otherwise get our ICE checks, over the
 * direct path, before the answer, over the relay: on libdatachannel (js-libp2p in Node) ICE
 * then connects before the remote DTLS fingerprint is set and the handshake fails (the js
 * initiator's dial then times out waiting for 'connected'). Our own initiator sends nothing
 * early, so the gate costs it nothing but the wait; the initiator's checks, which start once it
 * has our candidates, connect us in the meantime.
 */
export async function answerSignaling (pc: RTCPeerConnection, stream: Stream, signal: AbortSignal, answerDelivered?: () => Promise<void>): Promise<void> {
  const channel = new SignalingStream(stream)
  const local = trickleLocalCandidates(pc, channel, signal)
  try {
    const offer = await channel.read(signal)
    if (offer === null) throw new WebRTCSignalingError('the signaling stream ended before the SDP offer')
    if (offer.type !== SignalingType.SDP_OFFER) throw new WebRTCSignalingError(`signaling message of type ${offer.type} where the SDP offer was expected`)
    await pc.setRemoteDescription({ type: 'offer', sdp: offer.data })
    const answer = await pc.createAnswer()
    await pc.setLocalDescription(answer)
    channel.send({ type: SignalingType.SDP_ANSWER, data: answer.sdp ?? '' }, signal)
    local.release()
    await channel.flush()
    if (answerDelivered !== undefined) {
      const connected = peerConnectionConnected(pc, signal)
      // (either may lose the race and settle unobserved; a failure shows in the loop below)
      connected.catch(() => {})
      await Promise.race([answerDelivered().catch(() => {}), connected.catch(() => {})])
    }
    await addRemoteCandidatesUntilConnected(pc, channel, signal)
  } finally {
    local.stop()
  }
}

/**
 * Closes the initiator's `init` channel once it is open, and waits (bounded) until it is closed,
 * so its SCTP stream id is free before the first real stream may reuse it.
 */
export async function closeInitChannel (channel: RTCDataChannel): Promise<void> {
  await new Promise<void>(resolve => {
    const timer = unrefTimeout(() => { resolve() }, INIT_CHANNEL_TIMEOUT)
    const done = (): void => { clearTimeout(timer); resolve() }
    channel.addEventListener('close', done)
    if (channel.readyState === 'closed') done()
    else if (channel.readyState === 'open') channel.close()
    else channel.addEventListener('open', () => { channel.close() })
  })
}
