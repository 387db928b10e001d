import { test } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import {
  DEFAULT_IDENTIFY_LIMITS, decodeIdentify, encodeIdentify, encodeIdentifyFrames, readIdentify, type IdentifyMessage
} from '../../../src/protocols/identify/message.ts'
import { InvalidMessageError, MessageTooLargeError, UnexpectedEOFError, Libp2pError } from '../../../src/util/errors.ts'
import { encodeLP } from '../../../src/util/stream-reader.ts'
import { ProtobufWriter } from '../../../src/util/protobuf.ts'
import { duplexPair } from '../../../src/util/duplex-pair.ts'
import { fromHex } from '../../../src/util/bytes.ts'

const full: IdentifyMessage = {
  protocolVersion: 'ipfs/0.1.0',
  agentVersion: 'ts-libp2p/0.1.0',
  publicKey: fromHex('080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e'),
  listenAddrs: [multiaddr('/ip4/127.0.0.1/tcp/4001').bytes, multiaddr('/ip6/::1/tcp/4001').bytes],
  observedAddr: multiaddr('/ip4/1.2.3.4/tcp/5555').bytes,
  protocols: ['/ipfs/id/1.0.0', '/ipfs/ping/1.0.0'],
  signedPeerRecord: Uint8Array.of(1, 2, 3, 4)
}

test('identify round-trips and is encoded in field-number order', () => {
  const bytes = encodeIdentify(full)
  assert.equal(bytes[0], 0x0a) // field 1 (publicKey), length-delimited
  const decoded = decodeIdentify(bytes)
  assert.deepEqual(decoded, full)
  assert.deepEqual(encodeIdentify(decoded), bytes)
})

test('identify decodes a message encoded with js/protons field order (declaration order)', () => {
  const w = new ProtobufWriter()
  w.string(5, 'ipfs/0.1.0').string(6, 'js-libp2p/3').bytes(1, full.publicKey!)
  for (const a of full.listenAddrs) w.bytes(2, a)
  w.bytes(4, full.observedAddr!)
  for (const p of full.protocols) w.string(3, p)
  w.bytes(8, full.signedPeerRecord!).uint(99, 7)
  const decoded = decodeIdentify(w.finish())
  assert.equal(decoded.agentVersion, 'js-libp2p/3')
  assert.deepEqual(decoded.protocols, full.protocols)
  assert.deepEqual(decoded.listenAddrs, full.listenAddrs)
})

test('an empty message decodes to empty lists and no fields', () => {
  assert.deepEqual(decodeIdentify(new Uint8Array(0)), { listenAddrs: [], protocols: [] })
})

test('every truncation of a valid message is rejected with a typed error or decodes a prefix', () => {
  const bytes = encodeIdentify(full)
  for (let i = 1; i < bytes.length; i++) {
    try {
      decodeIdentify(bytes.subarray(0, i))
    } catch (err) {
      assert.ok(err instanceof InvalidMessageError, `cut at ${i}: ${String(err)}`)
    }
  }
  assert.throws(() => decodeIdentify(bytes.subarray(0, bytes.length - 1)), InvalidMessageError)
})

test('random bytes never crash the decoder', () => {
  for (let i = 0; i < 2000; i++) {
    const bytes = crypto.getRandomValues(new Uint8Array(1 + (i % 300)))
    try {
      decodeIdentify(bytes)
    } catch (err) {
      assert.ok(err instanceof Libp2pError, String(err))
    }
  }
})

test('bounds: message size, field sizes, counts, invalid UTF-8, wrong wire types', () => {
  assert.throws(() => decodeIdentify(new Uint8Array(DEFAULT_IDENTIFY_LIMITS.maxMessageSize + 1)), MessageTooLargeError)
  assert.throws(() => decodeIdentify(new ProtobufWriter().string(3, 'x'.repeat(1025)).finish()), InvalidMessageError)
  assert.throws(() => decodeIdentify(new ProtobufWriter().bytes(2, new Uint8Array(1025)).finish()), InvalidMessageError)
  assert.throws(() => decodeIdentify(new ProtobufWriter().bytes(6, Uint8Array.of(0xff, 0xfe)).finish()), InvalidMessageError)
  assert.throws(() => decodeIdentify(new ProtobufWriter().uint(3, 5).finish()), InvalidMessageError)
  const w = new ProtobufWriter()
  for (let i = 0; i < 129; i++) w.bytes(2, Uint8Array.of(4, 1, 2, 3, 4))
  assert.throws(() => decodeIdentify(w.finish()), /more than 128 listen addresses/)
  const p = new ProtobufWriter()
  for (let i = 0; i < 513; i++) p.string(3, 'p')
  assert.throws(() => decodeIdentify(p.finish(), { ...DEFAULT_IDENTIFY_LIMITS, maxMessageSize: 1 << 20 }), /more than 512 protocols/)
})

test('a large message is split like go: the second frame carries only the signed record', () => {
  const big: IdentifyMessage = { ...full, signedPeerRecord: new Uint8Array(6000).fill(7), protocols: Array.from({ length: 200 }, (_, i) => `/proto/${i}/1.0.0`) }
  const frames = encodeIdentifyFrames(big, 8192)
  assert.equal(frames.length, 2)
  const second = decodeIdentify(frames[1])
  assert.deepEqual(second, { listenAddrs: [], protocols: [], signedPeerRecord: big.signedPeerRecord })
  assert.equal(encodeIdentifyFrames(full, 8192).length, 1)
})

test('readIdentify merges split messages until EOF (scalars: last wins, lists: appended)', async () => {
  const [a, b] = duplexPair()
  const first = encodeIdentify({ ...full, signedPeerRecord: undefined })
  const second = encodeIdentify({ listenAddrs: [multiaddr('/ip4/10.0.0.1/tcp/1').bytes], protocols: ['/x/1'], agentVersion: 'later', signedPeerRecord: Uint8Array.of(9) })
  // deliver byte by byte to exercise framing across chunk boundaries
  const all = new Uint8Array([...encodeLP(first), ...encodeLP(second)])
  for (const byte of all) a.send(Uint8Array.of(byte))
  await a.closeWrite()
  const msg = await readIdentify(b)
  assert.equal(msg.agentVersion, 'later')
  assert.equal(msg.protocolVersion, full.protocolVersion)
  assert.deepEqual(msg.protocols, [...full.protocols, '/x/1'])
  assert.equal(msg.listenAddrs.length, 3)
  assert.deepEqual(msg.signedPeerRecord, Uint8Array.of(9))
})

test('readIdentify rejects too many messages, an oversized frame, truncation and an empty stream', async () => {
  {
    const [a, b] = duplexPair()
    for (let i = 0; i < 11; i++) a.send(encodeLP(encodeIdentify({ listenAddrs: [], protocols: ['/p'] })))
    void a.closeWrite()
    await assert.rejects(readIdentify(b), /more than 10 identify messages/)
  }
  {
    const [a, b] = duplexPair()
    a.send(encodeLP(new Uint8Array(8193)))
    await assert.rejects(readIdentify(b), MessageTooLargeError)
  }
  {
    const [a, b] = duplexPair()
    a.send(encodeLP(encodeIdentify(full)).subarray(0, 20))
    void a.closeWrite()
    await assert.rejects(readIdentify(b), UnexpectedEOFError)
  }
  {
    const [a, b] = duplexPair()
    void a.closeWrite()
    await assert.rejects(readIdentify(b), InvalidMessageError)
  }
  {
    // a silent peer: the signal bounds the wait
    const [, b] = duplexPair()
    await assert.rejects(readIdentify(b, { signal: AbortSignal.timeout(20) }), { name: 'TimeoutError' })
  }
})
