/** The pubsub RPC codec and message signing: round trips, exact bytes, hostile input. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeRpc, encodeRpc, encodeRpcFrame, encodeMessage, DEFAULT_RPC_LIMITS, type Rpc } from '../../src/pubsub/rpc.ts'
import { buildMessage, checkMessageSignature, messageIdFromAuthor, StrictNoSign, StrictSign } from '../../src/pubsub/sign.ts'
import { generateKeyPair } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { ProtobufWriter } from '../../src/util/protobuf.ts'
import { InvalidMessageError } from '../../src/util/errors.ts'
import { decodeVarint } from '../../src/util/varint.ts'

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b)

function sample (): Rpc {
  return {
    subscriptions: [{ subscribe: true, topic: 'a' }, { subscribe: false, topic: 'bé' }],
    messages: [{ from: bytes(1, 2), data: new Uint8Array(0), seqno: bytes(0, 0, 0, 0, 0, 0, 0, 9), topic: 'a', signature: bytes(7), key: bytes(8) }],
    control: {
      ihave: [{ topic: 'a', messageIds: [bytes(1), bytes(2, 3)] }],
      iwant: [{ messageIds: [bytes(4)] }],
      graft: [{ topic: 'a' }],
      prune: [{ topic: 'b', peers: [{ peerId: bytes(5), signedPeerRecord: bytes(6) }, {}], backoff: 60 }],
      idontwant: [{ messageIds: [bytes(9, 9)] }]
    }
  }
}

test('rpc: encode/decode round trip keeps every field and presence', () => {
  const rpc = sample()
  const encoded = encodeRpc(rpc)
  const back = decodeRpc(encoded)
  assert.deepEqual(back.subscriptions, rpc.subscriptions)
  const m = back.messages[0]
  assert.deepEqual(m.data, new Uint8Array(0), 'empty but present data survives')
  assert.deepEqual({ ...m, raw: undefined }, { ...rpc.messages[0], raw: undefined })
  assert.deepEqual(back.control, rpc.control)
  // a decoded message re-encodes from its raw bytes, identically
  assert.deepEqual(encodeRpc(back), encoded)
})

test('rpc: bytes match a generic protobuf writer (field order and tags)', () => {
  const rpc: Rpc = { subscriptions: [{ subscribe: true, topic: 'x' }], messages: [{ from: bytes(1), data: bytes(2), seqno: bytes(3), topic: 'x' }] }
  const sub = new ProtobufWriter().uint(1, true).string(2, 'x').finish().slice()
  const msg = new ProtobufWriter().bytes(1, bytes(1)).bytes(2, bytes(2)).bytes(3, bytes(3)).string(4, 'x').finish().slice()
  const want = new ProtobufWriter().bytes(1, sub).bytes(2, msg).finish()
  assert.deepEqual(encodeRpc(rpc), want)
  const frame = encodeRpcFrame(rpc)
  const [len, n] = decodeVarint(frame) ?? [0, 0]
  assert.equal(len, want.length)
  assert.deepEqual(frame.subarray(n), want)
})

test('rpc: empty control is omitted, empty rpc is zero bytes', () => {
  assert.equal(encodeRpc({ subscriptions: [], messages: [], control: { ihave: [], iwant: [], graft: [], prune: [], idontwant: [] } }).length, 0)
  assert.deepEqual(decodeRpc(new Uint8Array(0)), { subscriptions: [], messages: [] })
})

test('rpc: hostile input gives InvalidMessageError, never a crash', () => {
  const good = encodeRpc(sample())
  for (let cut = 1; cut < good.length; cut++) {
    try { decodeRpc(good.subarray(0, cut)) } catch (err) { assert.ok(err instanceof InvalidMessageError, String(err)) }
  }
  let seed = 12345
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 24 }
  for (let i = 0; i < 3000; i++) {
    const buf = new Uint8Array(1 + (rnd() % 200)).map(() => rnd())
    try { decodeRpc(buf) } catch (err) { assert.ok(err instanceof InvalidMessageError, String(err)) }
    const mutated = good.slice()
    mutated[rnd() % mutated.length] = rnd()
    try { decodeRpc(mutated) } catch (err) { assert.ok(err instanceof InvalidMessageError, String(err)) }
  }
})

test('rpc: oversize and over-count RPCs are refused', () => {
  assert.throws(() => decodeRpc(new Uint8Array(DEFAULT_RPC_LIMITS.maxRpcSize + 1)), InvalidMessageError)
  const many: Rpc = { subscriptions: [], messages: [], control: { ihave: [], iwant: [{ messageIds: Array.from({ length: 30 }, () => bytes(1)) }], graft: [], prune: [], idontwant: [] } }
  assert.throws(() => decodeRpc(encodeRpc(many), { ...DEFAULT_RPC_LIMITS, maxMessageIds: 29 }), /more than 29 message ids/)
  const subs: Rpc = { subscriptions: Array.from({ length: 11 }, (_, i) => ({ subscribe: true, topic: `t${i}` })), messages: [] }
  assert.throws(() => decodeRpc(encodeRpc(subs), { ...DEFAULT_RPC_LIMITS, maxSubscriptions: 10 }), /more than 10 subscriptions/)
  const prunes: Rpc = { subscriptions: [], messages: [], control: { ihave: [], iwant: [], graft: [], prune: [{ topic: 'x', peers: Array.from({ length: 5 }, () => ({})) }], idontwant: [] } }
  assert.throws(() => decodeRpc(encodeRpc(prunes), { ...DEFAULT_RPC_LIMITS, maxPeerInfos: 4 }), /more than 4 prune/)
  const grafts: Rpc = { subscriptions: [], messages: [], control: { ihave: [], iwant: [], graft: Array.from({ length: 6 }, () => ({ topic: 'x' })), prune: [], idontwant: [] } }
  assert.throws(() => decodeRpc(encodeRpc(grafts), { ...DEFAULT_RPC_LIMITS, maxControlEntries: 5 }), /more than 5 control/)
  const longTopic: Rpc = { subscriptions: [{ subscribe: true, topic: 'x'.repeat(5000) }], messages: [] }
  assert.throws(() => decodeRpc(encodeRpc(longTopic)), InvalidMessageError)
})

for (const type of ['Ed25519', 'secp256k1', 'ECDSA'] as const) {
  test(`sign: StrictSign round trip with ${type} keys, tampering detected`, async () => {
    const key = await generateKeyPair(type)
    const author = peerIdFromPrivateKey(key)
    const msg = await buildMessage(StrictSign, key, author, 'topic', bytes(1, 2, 3))
    assert.equal(msg.seqno?.length, 8)
    assert.equal(msg.key !== undefined, type === 'ECDSA', 'the key travels only when the id cannot carry it')
    const decoded = decodeRpc(encodeRpc({ subscriptions: [], messages: [msg] })).messages[0]
    const ok = await checkMessageSignature(StrictSign, decoded)
    assert.ok(ok.ok, ok.failure)
    assert.ok(ok.author?.equals(author))
    assert.deepEqual(messageIdFromAuthor(decoded), Uint8Array.from([...author.bytes, ...(msg.seqno ?? [])]))
    assert.equal((await checkMessageSignature(StrictSign, { ...decoded, raw: undefined, data: bytes(1, 2, 4) })).failure, 'invalid-signature')
    assert.equal((await checkMessageSignature(StrictSign, { ...decoded, raw: undefined, topic: 'other' })).failure, 'invalid-signature')
    assert.equal((await checkMessageSignature(StrictSign, { ...decoded, signature: undefined })).failure, 'missing-signature')
    assert.equal((await checkMessageSignature(StrictSign, { ...decoded, seqno: bytes(1) })).failure, 'invalid-seqno')
    assert.equal((await checkMessageSignature(StrictSign, { ...decoded, from: bytes(0xff, 1) })).failure, 'invalid-peer-id')
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    assert.equal((await checkMessageSignature(StrictSign, { ...decoded, raw: undefined, from: other.bytes })).ok, false)
    assert.equal((await checkMessageSignature(StrictSign, { ...decoded, key: bytes(1, 2, 3) })).failure, 'invalid-key')
    assert.equal((await checkMessageSignature(StrictNoSign, decoded)).failure, 'unexpected-signature-fields')
  })
}

test('sign: the signed bytes are "libp2p-pubsub:" || message without signature and key', async () => {
  const key = await generateKeyPair('Ed25519')
  const author = peerIdFromPrivateKey(key)
  const msg = await buildMessage(StrictSign, key, author, 'x', bytes(5))
  const signed = Uint8Array.from([...new TextEncoder().encode('libp2p-pubsub:'), ...encodeMessage({ ...msg, signature: undefined, key: undefined })])
  assert.ok(await key.publicKey.verify(signed, msg.signature ?? new Uint8Array(0)))
  const unsigned = await buildMessage(StrictNoSign, key, author, 'x', bytes(5))
  assert.deepEqual(unsigned, { topic: 'x', data: bytes(5) })
  assert.ok((await checkMessageSignature(StrictNoSign, unsigned)).ok)
  assert.equal((await checkMessageSignature(StrictSign, unsigned)).failure, 'missing-signature')
})
