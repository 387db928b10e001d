/**
 * The order of the `/webrtc-signaling/0.0.1` exchange (signaling.ts) on a scripted peer
 * connection: the initiator sends its ICE candidates only after it applied the answer
 * (specs webrtc/webrtc.md, steps 6 and 7), and the responder's never overtake its answer. A
 * remote holding our candidates earlier starts ICE checks while its answer is still on the
 * relay, and libdatachannel then starts DTLS without the remote fingerprint (the /webrtc
 * Node-to-Node flake). The real peer connections are tested in webrtc-browser.test.ts.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { duplexPair } from '../../../src/util/duplex-pair.ts'
import type { PipeEnd } from '../../../src/util/duplex-pair.ts'
import { StreamReader, writeLP } from '../../../src/util/stream-reader.ts'
import { answerSignaling, initiateSignaling } from '../../../src/transport/webrtc/signaling.ts'
import { decodeSignalingMessage, encodeSignalingMessage, MAX_SIGNALING_MESSAGE_LENGTH, SIGNALING_PROTOCOL, SignalingType } from '../../../src/transport/webrtc/signaling-message.ts'
import type { SignalingMessage } from '../../../src/transport/webrtc/signaling-message.ts'
import type { Stream } from '../../../src/interface/stream.ts'

const LOCAL_CANDIDATE = 'candidate:1 1 UDP 2114977791 10.0.0.1 40000 typ host'
const REMOTE_CANDIDATE = 'candidate:1 1 UDP 2114977791 10.0.0.2 40001 typ host'

/**
 * Just enough of RTCPeerConnection for signaling.ts: it gathers one host candidate right after
 * its local description is set and is 'connected' once it has a remote candidate.
 */
class ScriptedPeerConnection extends EventTarget {
  connectionState: RTCPeerConnectionState = 'new'
  readonly log: string[]
  readonly #gathered: Promise<void>
  #onGathered!: () => void

  constructor (log: string[]) {
    super()
    this.log = log
    this.#gathered = new Promise(resolve => { this.#onGathered = resolve })
  }

  /** Resolves once the local candidate event was dispatched. */
  get gathered (): Promise<void> { return this.#gathered }

  createDataChannel (label: string): unknown {
    return { label, readyState: 'connecting', close () {}, addEventListener () {} }
  }

  async createOffer (): Promise<RTCSessionDescriptionInit> { return { type: 'offer', sdp: 'offer-sdp' } }
  async createAnswer (): Promise<RTCSessionDescriptionInit> { return { type: 'answer', sdp: 'answer-sdp' } }

  async setLocalDescription (description: RTCSessionDescriptionInit): Promise<void> {
    this.log.push(`local ${description.type ?? ''}`)
    this.connectionState = 'connecting'
    queueMicrotask(() => {
      const candidate = { candidate: LOCAL_CANDIDATE, sdpMid: '0', toJSON () { return { candidate: LOCAL_CANDIDATE, sdpMid: '0' } } }
      this.dispatchEvent(Object.assign(new Event('icecandidate'), { candidate }))
      this.dispatchEvent(Object.assign(new Event('icecandidate'), { candidate: null }))
      this.#onGathered()
    })
  }

  async setRemoteDescription (description: RTCSessionDescriptionInit): Promise<void> {
    this.log.push(`remote ${description.type ?? ''}`)
  }

  async addIceCandidate (_candidate: RTCIceCandidateInit): Promise<void> {
    this.log.push('remote candidate')
    this.connectionState = 'connected'
    this.dispatchEvent(new Event('connectionstatechange'))
  }
}

/** The far end of the signaling stream, logging each message as it arrives. */
function farEnd (stream: PipeEnd, log: string[]): { read(): Promise<SignalingMessage>, write(m: SignalingMessage): Promise<void> } {
  const names = ['offer', 'answer', 'candidate']
  const reader = new StreamReader(stream)
  return {
    async read () {
      const frame = await reader.readLP({ maxLength: MAX_SIGNALING_MESSAGE_LENGTH })
      assert.ok(frame !== null, 'the signaling stream ended')
      const message = decodeSignalingMessage(frame)
      log.push(`far end got ${names[message.type]}`)
      return message
    },
    async write (message: SignalingMessage) {
      await writeLP(stream, encodeSignalingMessage(message))
    }
  }
}

/** An in-memory signaling stream pair: ours (a Stream, as the switch hands it) and the far end's. */
function signalingPair (): [Stream, PipeEnd] {
  const [near, far] = duplexPair()
  return [Object.assign(near, { id: 'signaling', direction: 'outbound' as const, protocol: SIGNALING_PROTOCOL, metadata: {} }), far]
}

/** Lets queued writes reach the far end (one turn of the event loop, no timer). */
async function settle (): Promise<void> {
  await new Promise(resolve => { setImmediate(resolve) })
}

describe('/webrtc signaling order', () => {
  it('the initiator holds its ICE candidates until it has applied the answer', async () => {
    const log: string[] = []
    const pc = new ScriptedPeerConnection(log)
    const [near, far] = signalingPair()
    const remote = farEnd(far, log)
    const done = initiateSignaling(pc as unknown as RTCPeerConnection, near, AbortSignal.timeout(10_000))

    const offer = await remote.read()
    assert.equal(offer.type, SignalingType.SDP_OFFER)
    await pc.gathered
    await settle()
    // nothing but the offer has been sent, although the candidate was gathered
    assert.equal(far.readableLength, 0)
    await remote.write({ type: SignalingType.SDP_ANSWER, data: 'answer-sdp' })
    const candidate = await remote.read()
    assert.equal(candidate.type, SignalingType.ICE_CANDIDATE)
    assert.equal(JSON.parse(candidate.data).candidate, LOCAL_CANDIDATE)
    await remote.write({ type: SignalingType.ICE_CANDIDATE, data: JSON.stringify({ candidate: REMOTE_CANDIDATE, sdpMid: '0' }) })
    await done
    assert.deepEqual(log, ['local offer', 'far end got offer', 'remote answer', 'far end got candidate', 'remote candidate'])
  })

  it('the responder sends its candidates right after its answer, never before it', async () => {
    const log: string[] = []
    const pc = new ScriptedPeerConnection(log)
    const [near, far] = signalingPair()
    const remote = farEnd(far, log)
    const done = answerSignaling(pc as unknown as RTCPeerConnection, near, AbortSignal.timeout(10_000))

    await remote.write({ type: SignalingType.SDP_OFFER, data: 'offer-sdp' })
    assert.equal((await remote.read()).type, SignalingType.SDP_ANSWER)
    // (the candidate was gathered before the answer was sent; it must not overtake it)
    assert.equal((await remote.read()).type, SignalingType.ICE_CANDIDATE)
    await remote.write({ type: SignalingType.ICE_CANDIDATE, data: JSON.stringify({ candidate: REMOTE_CANDIDATE, sdpMid: '0' }) })
    await done
    assert.deepEqual(log, ['remote offer', 'local answer', 'far end got answer', 'far end got candidate', 'remote candidate'])
  })

  it('the responder adds candidates an initiator trickled early only once its answer was delivered', async () => {
    const log: string[] = []
    const pc = new ScriptedPeerConnection(log)
    const [near, far] = signalingPair()
    const remote = farEnd(far, log)
    let deliver!: () => void
    const delivered = new Promise<void>(resolve => { deliver = resolve })
    const done = answerSignaling(pc as unknown as RTCPeerConnection, near, AbortSignal.timeout(10_000), async () => {
      log.push('answer delivery started')
      await delivered
    })

    // as js-libp2p's initiator does: a candidate right behind the offer
    await remote.write({ type: SignalingType.SDP_OFFER, data: 'offer-sdp' })
    await remote.write({ type: SignalingType.ICE_CANDIDATE, data: JSON.stringify({ candidate: REMOTE_CANDIDATE, sdpMid: '0' }) })
    assert.equal((await remote.read()).type, SignalingType.SDP_ANSWER)
    assert.equal((await remote.read()).type, SignalingType.ICE_CANDIDATE)
    await settle()
    assert.ok(!log.includes('remote candidate'), 'the early candidate was added before the answer was delivered')
    log.push('answer delivered')
    deliver()
    await done
    assert.deepEqual(log, ['remote offer', 'local answer', 'far end got answer', 'far end got candidate', 'answer delivery started', 'answer delivered', 'remote candidate'])
  })
})
