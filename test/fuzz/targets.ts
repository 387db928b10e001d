/**
 * Fuzz targets: every decoder that reads bytes a remote (or a file on disk) controls (what
 * passes and what is a crash: target.ts). Seeds (valid encodings, so mutations start deep inside the
 * format) are made by `seeds()` and committed under test/fuzz/corpus/ by make-corpus.ts.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { Libp2pError } from '../../src/util/errors.ts'
import type { FuzzTarget } from './target.ts'
/** Re-exported: the discovery targets (discovery-targets.ts) import it from here. */
export type { FuzzTarget } from './target.ts'
import { quicNatSeeds, quicNatTargets } from './targets-quic-nat.ts'
import { decodeVarint, encodeVarint } from '../../src/util/varint.ts'
import { decodeMessageBody, encodeMessage as encodeMss } from '../../src/mss/codec.ts'
import { decodeListing } from '../../src/mss/select.ts'
import { decodeHandshakePayload, decodeExtensions, encodeHandshakePayload, encodeExtensions } from '../../src/security/noise/payload.ts'
import { decodeExchange, encodeExchange } from '../../src/security/plaintext.ts'
import { decodePreSharedKey } from '../../src/security/pnet/key.ts'
import { generateKeyPairFromSeed, privateKeyFromProtobuf, privateKeyToProtobuf, publicKeyFromProtobuf, publicKeyToProtobuf } from '../../src/crypto/index.ts'
import { peerIdFromBytes, peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { createPeerRecord, decodePeerRecord, encodePeerRecord } from '../../src/peer/peer-record.ts'
import { decodeEnvelope } from '../../src/peer/envelope.ts'
import { createSignedPeerRecord } from '../../src/peer/peer-record.ts'
import { decodeIdentify, encodeIdentify } from '../../src/protocols/identify/message.ts'
import { decodeMessage as decodeDht, encodeMessage as encodeDht } from '../../src/dht/message.ts'
import { decodeRpc, encodeRpc } from '../../src/pubsub/rpc.ts'
import { decodeHopMessage, decodeStopMessage, encodeHopMessage, encodeStopMessage } from '../../src/relay/messages.ts'
import { decodeVoucher } from '../../src/relay/voucher.ts'
import { decodeV1Message } from '../../src/protocols/autonat/v1-messages.ts'
import { decodeV2Message } from '../../src/protocols/autonat/v2-messages.ts'
import { decodeHolePunch, encodeHolePunch } from '../../src/protocols/dcutr/message.ts'
import { decodeRequest, decodeResponse } from '../../src/daemon/messages.ts'
import { decodeStoredPeer } from '../../src/peer-store/stored-peer.ts'
import { decodeSignalingMessage, encodeSignalingMessage, parseCandidate, SignalingType } from '../../src/transport/webrtc/signaling-message.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { mplex } from '../../src/muxer/mplex/index.ts'
import { duplexPair } from '../../src/util/duplex-pair.ts'
import { concatBytes, utf8Encode } from '../../src/util/bytes.ts'
import { mplexFrame, yamuxFrame } from '../muxer/raw-peer.ts'
import { discoverySeeds, discoveryTargets } from './discovery-targets.ts'
import { httpSeeds, httpTargets } from './http-targets.ts'
import { exchangeSeeds, exchangeTargets } from './exchange-targets.ts'
import { webTransportTlsSeeds, webTransportTlsTargets } from './targets-webtransport-tls.ts'

/**
 * A muxer parses what the remote sends as a side effect of reading it: the target feeds the
 * input to a fresh session's parser directly (`onChunk`) and aborts it, so every frame type,
 * flag and length is reached without a socket.
 */
function muxerTarget (name: string, factory: ReturnType<ReturnType<typeof yamux>> | ReturnType<ReturnType<typeof mplex>>): FuzzTarget {
  return {
    name,
    run (input) {
      const [mine] = duplexPair()
      const muxer = factory.createStreamMuxer(mine, { direction: 'inbound', onIncomingStream: (s) => { s.abort(new Error('fuzz')) } })
      try {
        (muxer as unknown as { onChunk(b: Uint8Array): void }).onChunk(input)
      } finally {
        muxer.abort(new Libp2pError('fuzz done', 'ERR_FUZZ_DONE'))
      }
    }
  }
}

export const targets: FuzzTarget[] = [
  { name: 'varint', run: (b) => { decodeVarint(b) } },
  { name: 'mss-message', run: (b) => { decodeMessageBody(b) } },
  { name: 'mss-ls', run: (b) => { decodeListing(b) } },
  { name: 'noise-payload', run: (b) => { decodeHandshakePayload(b) } },
  { name: 'noise-extensions', run: (b) => { decodeExtensions(b) } },
  { name: 'plaintext-exchange', run: (b) => { decodeExchange(b) } },
  { name: 'pnet-key', run: (b) => { decodePreSharedKey(b) } },
  { name: 'public-key', run: (b) => { publicKeyFromProtobuf(b) } },
  { name: 'private-key', run: (b) => { privateKeyFromProtobuf(b) } },
  { name: 'peer-id', run: (b) => { peerIdFromBytes(b) } },
  { name: 'multiaddr', run: (b) => { multiaddr(b).toString() }, foreignErrors: true, coverage: [new URL('.', import.meta.resolve('@multiformats/multiaddr')).href] },
  { name: 'peer-record', run: (b) => { decodePeerRecord(b) } },
  { name: 'envelope', run: (b) => { decodeEnvelope(b) } },
  { name: 'identify', run: (b) => { decodeIdentify(b) } },
  { name: 'dht-message', run: (b) => { decodeDht(b) } },
  { name: 'pubsub-rpc', run: (b) => { decodeRpc(b) } },
  { name: 'relay-hop', run: (b) => { decodeHopMessage(b) } },
  { name: 'relay-stop', run: (b) => { decodeStopMessage(b) } },
  { name: 'relay-voucher', run: (b) => { decodeVoucher(b) } },
  { name: 'autonat-v1', run: (b) => { decodeV1Message(b) } },
  { name: 'autonat-v2', run: (b) => { decodeV2Message(b) } },
  { name: 'dcutr', run: (b) => { decodeHolePunch(b) } },
  { name: 'daemon-request', run: (b) => { decodeRequest(b) } },
  { name: 'daemon-response', run: (b) => { decodeResponse(b) } },
  { name: 'stored-peer', run: (b) => { decodeStoredPeer(b) } },
  {
    name: 'webrtc-signaling',
    run: (b) => {
      const message = decodeSignalingMessage(b)
      if (message.type === SignalingType.ICE_CANDIDATE) parseCandidate(message.data)
    }
  },
  muxerTarget('yamux', yamux({ keepAliveInterval: 0 })()),
  muxerTarget('mplex', mplex()()),
  ...discoveryTargets,
  ...quicNatTargets,
  ...httpTargets,
  ...exchangeTargets,
  ...webTransportTlsTargets
]

/** Valid encodings to start from, per target name (deterministic: keys come from fixed seeds). */
export async function seeds (): Promise<Record<string, Uint8Array[]>> {
  const key = generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(1))
  const peerId = peerIdFromPrivateKey(key)
  const addrs = [multiaddr('/ip4/127.0.0.1/tcp/4001'), multiaddr('/ip6/::1/udp/4001/quic-v1'), multiaddr('/dns4/example.com/tcp/443/wss')]
  const record = createPeerRecord({ peerId, multiaddrs: addrs, seq: 7n })
  const envelope = await createSignedPeerRecord(key, addrs, { seq: 7n })
  const pubKey = publicKeyToProtobuf(key.publicKey)
  const dhtPeer = { id: peerId.bytes, addrs: addrs.map(a => a.bytes), connection: 1 as never }
  return {
    varint: [encodeVarint(0), encodeVarint(300), encodeVarint(2 ** 31), encodeVarint(Number.MAX_SAFE_INTEGER)],
    'mss-message': [encodeMss('/multistream/1.0.0').subarray(1), encodeMss('/noise').subarray(1), encodeMss('na').subarray(1)],
    'mss-ls': [concatBytes([encodeMss('/ipfs/id/1.0.0'), encodeMss('/ipfs/ping/1.0.0')])],
    'noise-payload': [encodeHandshakePayload({ identityKey: pubKey, identitySig: new Uint8Array(64).fill(3), extensions: { webtransportCerthashes: [], streamMuxers: ['/yamux/1.0.0'] } })],
    'noise-extensions': [encodeExtensions({ webtransportCerthashes: [new Uint8Array(34)], streamMuxers: ['/yamux/1.0.0', '/mplex/6.7.0'] })],
    'plaintext-exchange': [encodeExchange({ id: peerId.bytes, pubkey: pubKey })],
    'pnet-key': [utf8Encode(`/key/swarm/psk/1.0.0/\n/base16/\n${'ab'.repeat(32)}\n`)],
    'public-key': [pubKey],
    'private-key': [privateKeyToProtobuf(key)],
    'peer-id': [peerId.bytes],
    multiaddr: addrs.map(a => a.bytes),
    'peer-record': [encodePeerRecord(record)],
    envelope: [envelope],
    identify: [encodeIdentify({ protocolVersion: 'ipfs/0.1.0', agentVersion: 'fuzz/1', publicKey: pubKey, listenAddrs: addrs.map(a => a.bytes), observedAddr: addrs[0].bytes, protocols: ['/ipfs/ping/1.0.0', '/ipfs/id/1.0.0'], signedPeerRecord: envelope })],
    'dht-message': [encodeDht({ type: 4, key: new Uint8Array(32).fill(9), closerPeers: [dhtPeer], providerPeers: [dhtPeer] })],
    'pubsub-rpc': [encodeRpc({ subscriptions: [{ subscribe: true, topic: 'fuzz' }], messages: [{ from: peerId.bytes, data: utf8Encode('hello'), seqno: new Uint8Array(8), topic: 'fuzz' }] } as never)],
    'relay-hop': [encodeHopMessage({ type: 1, peer: { id: peerId.bytes, addrs: addrs.map(a => a.bytes) } } as never)],
    'webrtc-signaling': [
      encodeSignalingMessage({ type: SignalingType.SDP_OFFER, data: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n' }),
      encodeSignalingMessage({ type: SignalingType.ICE_CANDIDATE, data: JSON.stringify({ candidate: 'candidate:1 1 udp 2122260223 10.0.0.1 40000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'abcd' }) })
    ],
    'relay-stop': [encodeStopMessage({ type: 0, peer: { id: peerId.bytes, addrs: [] } } as never)],
    dcutr: [encodeHolePunch({ type: 100, observedAddrs: addrs.map(a => a.bytes) } as never)],
    yamux: [concatBytes([yamuxFrame(1, 1, 1, 0), yamuxFrame(0, 0, 1, 5, utf8Encode('hello')), yamuxFrame(2, 1, 0, 7), yamuxFrame(1, 4, 1, 0), yamuxFrame(3, 0, 0, 0)])],
    mplex: [concatBytes([mplexFrame(0, 0, utf8Encode('s')), mplexFrame(0, 2, utf8Encode('hello')), mplexFrame(0, 4), mplexFrame(0, 6)])],
    ...discoverySeeds(peerId.toString(), envelope, pubKey),
    ...quicNatSeeds(),
    ...httpSeeds(),
    ...exchangeSeeds(),
    ...await webTransportTlsSeeds()
  }
}
