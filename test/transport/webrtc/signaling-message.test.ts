/**
 * The `/webrtc-signaling/0.0.1` message codec and candidate checks (signaling-message.ts), and
 * the `/webrtc` address shapes the transport dials and listens on (webrtc.ts).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { decodeSignalingMessage, encodeSignalingMessage, MAX_SIGNALING_MESSAGE_LENGTH, parseCandidate, SignalingType } from '../../../src/transport/webrtc/signaling-message.ts'
import { parseWebRTCAddr, parseWebRTCListenAddr } from '../../../src/transport/webrtc/webrtc.ts'
import { WebRTCSignalingError } from '../../../src/transport/webrtc/errors.ts'

const PEER = '12D3KooWCgv53cDb6Z5mV4ddsNQPoEeo8uC7tubatazpa8vqAWQX'
const RELAY = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'

describe('/webrtc-signaling messages', () => {
  it('round-trips every type; SDP_OFFER (0) is written, as go and js write it', () => {
    for (const type of [SignalingType.SDP_OFFER, SignalingType.SDP_ANSWER, SignalingType.ICE_CANDIDATE]) {
      const bytes = encodeSignalingMessage({ type, data: 'v=0\r\n' })
      assert.deepEqual(decodeSignalingMessage(bytes), { type, data: 'v=0\r\n' })
    }
    // field 1 varint 0, field 2 "x"
    assert.deepEqual([...encodeSignalingMessage({ type: SignalingType.SDP_OFFER, data: 'x' })], [0x08, 0x00, 0x12, 0x01, 0x78])
  })

  it('refuses unknown or missing types, truncated and oversized messages with WebRTCSignalingError', () => {
    assert.throws(() => decodeSignalingMessage(Uint8Array.of(0x08, 0x07)), WebRTCSignalingError)
    assert.throws(() => decodeSignalingMessage(Uint8Array.of(0x12, 0x01, 0x78)), WebRTCSignalingError)
    assert.throws(() => decodeSignalingMessage(Uint8Array.of(0x08, 0x00, 0x12, 0x05, 0x78)), WebRTCSignalingError)
    assert.throws(() => decodeSignalingMessage(new Uint8Array(MAX_SIGNALING_MESSAGE_LENGTH + 1)), (err: Error) => err instanceof WebRTCSignalingError && (err as WebRTCSignalingError).code === 'ERR_WEBRTC_SIGNALING')
  })

  it('parses candidates, treats null and "" as the end of candidates, refuses malformed ones', () => {
    const line = 'candidate:1 1 udp 2122260223 10.0.0.1 40000 typ host'
    assert.deepEqual(parseCandidate(JSON.stringify({ candidate: line, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'ab' })), { candidate: line, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'ab' })
    // neither mid nor index: the first m-line (there is only one)
    assert.deepEqual(parseCandidate(JSON.stringify({ candidate: line })), { candidate: line, sdpMLineIndex: 0 })
    assert.equal(parseCandidate('null'), null)
    assert.equal(parseCandidate('""'), null)
    assert.equal(parseCandidate(JSON.stringify({ candidate: '', sdpMid: '0' })), null)
    for (const bad of ['{', '42', '{"candidate":7}', JSON.stringify({ candidate: 'c'.repeat(2000) }), JSON.stringify({ candidate: line, sdpMLineIndex: -1 }), JSON.stringify({ candidate: line, sdpMid: 5 })]) {
      assert.throws(() => parseCandidate(bad), WebRTCSignalingError, bad.slice(0, 40))
    }
  })
})

describe('/webrtc addresses', () => {
  it('dials <relay>/p2p-circuit/webrtc/p2p/<peer> over the circuit address without /webrtc', () => {
    const parsed = parseWebRTCAddr(multiaddr(`/ip4/10.0.0.1/tcp/1/ws/p2p/${RELAY}/p2p-circuit/webrtc/p2p/${PEER}`))
    assert.equal(parsed?.peer, PEER)
    assert.equal(parsed?.circuitAddr.toString(), `/ip4/10.0.0.1/tcp/1/ws/p2p/${RELAY}/p2p-circuit/p2p/${PEER}`)
    for (const bad of [`/ip4/10.0.0.1/tcp/1/ws/p2p/${RELAY}/p2p-circuit/p2p/${PEER}`, `/webrtc/p2p/${PEER}`, `/ip4/10.0.0.1/tcp/1/ws/p2p/${RELAY}/p2p-circuit/webrtc`, `/ip4/10.0.0.1/udp/1/webrtc-direct/p2p/${PEER}`, `/p2p/${RELAY}/p2p-circuit/webrtc/p2p/${RELAY}/p2p-circuit/webrtc/p2p/${PEER}`]) {
      assert.equal(parseWebRTCAddr(multiaddr(bad)), undefined, bad)
    }
  })

  it('listens on <relay>/p2p-circuit/webrtc and /p2p-circuit/webrtc through the circuit listen address', () => {
    assert.equal(parseWebRTCListenAddr(multiaddr(`/ip4/10.0.0.1/tcp/1/ws/p2p/${RELAY}/p2p-circuit/webrtc`))?.toString(), `/ip4/10.0.0.1/tcp/1/ws/p2p/${RELAY}/p2p-circuit`)
    assert.equal(parseWebRTCListenAddr(multiaddr('/p2p-circuit/webrtc'))?.toString(), '/p2p-circuit')
    assert.equal(parseWebRTCListenAddr(multiaddr('/p2p-circuit')), undefined)
    assert.equal(parseWebRTCListenAddr(multiaddr('/ip4/10.0.0.1/udp/0/webrtc-direct')), undefined)
  })
})
