import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  decodeRequest, decodeResponse, decodeStreamInfo, decodeDHTResponse, decodePSMessage, encodeRequest, encodeResponse,
  encodeStreamInfo, encodeDHTResponse, encodePSMessage, RequestType, ResponseType, DHTResponseType, MAX_CONTROL_MESSAGE_SIZE,
  MAX_ADDRS_PER_PEER
} from '../../src/daemon/messages.ts'
import { ProtobufWriter } from '../../src/util/protobuf.ts'

const id = Uint8Array.from([0, 36, 8, 1, 18, 32, ...new Array(32).fill(7)])
const addr = Uint8Array.from([4, 127, 0, 0, 1, 6, 0x0f, 0xa1])

test('requests round-trip with every sub-message', () => {
  const r = {
    type: RequestType.CONNECT,
    connect: { peer: id, addrs: [addr], timeout: 5 },
    streamOpen: { peer: id, proto: ['/a/1', '/b/1'], timeout: 7 },
    streamHandler: { addr, proto: ['/a/1'] },
    dht: { type: 5, key: Uint8Array.of(1), value: Uint8Array.of(2), count: 20, timeout: 9 },
    connManager: { type: 0, peer: id, tag: 't', weight: -3 },
    disconnect: { peer: id },
    pubsub: { type: 2, topic: 'x', data: Uint8Array.of(3) },
    peerStore: { type: 1, id, protos: ['/p'] }
  }
  const back = decodeRequest(encodeRequest(r))
  assert.deepEqual(JSON.parse(JSON.stringify(back)), JSON.parse(JSON.stringify(r)))
})

test('responses round-trip; an empty pubsub field is still written (js client needs it)', () => {
  const r = {
    type: ResponseType.OK,
    streamInfo: { peer: id, addr, proto: '/a/1' },
    identify: { id, addrs: [addr, addr] },
    dht: { type: DHTResponseType.VALUE, peer: { id, addrs: [addr] }, value: Uint8Array.of(9) },
    peers: [{ id, addrs: [addr] }, { id, addrs: [] }],
    pubsub: { topics: [], peerIDs: [] },
    peerStore: { peer: { id, addrs: [addr] }, protos: ['/p'] }
  }
  const back = decodeResponse(encodeResponse(r))
  assert.deepEqual(JSON.parse(JSON.stringify(back)), JSON.parse(JSON.stringify(r)))
  assert.deepEqual(decodeResponse(encodeResponse({ type: 0, pubsub: { topics: [], peerIDs: [] } })).pubsub, { topics: [], peerIDs: [] })
  assert.deepEqual(decodeResponse(encodeResponse({ type: 1, error: { msg: 'nope' } })).error, { msg: 'nope' })
  assert.deepEqual(decodeStreamInfo(encodeStreamInfo(r.streamInfo)), r.streamInfo)
  assert.deepEqual(decodeDHTResponse(encodeDHTResponse({ type: 2 })), { type: 2 })
  const m = { from: id, data: Uint8Array.of(1), seqno: Uint8Array.of(2), topicIDs: ['a', 'b'], signature: Uint8Array.of(3), key: Uint8Array.of(4) }
  assert.deepEqual(decodePSMessage(encodePSMessage(m)), m)
})

test('hostile input: oversized, too many addresses, truncated, wrong wire types are typed errors', () => {
  assert.throws(() => decodeRequest(new Uint8Array(MAX_CONTROL_MESSAGE_SIZE + 1)), { name: 'MessageTooLargeError' })
  const inner = new ProtobufWriter().bytes(1, id)
  for (let i = 0; i <= MAX_ADDRS_PER_PEER; i++) inner.bytes(2, addr)
  const many = new ProtobufWriter().uint(1, 1).bytes(2, inner.finish()).finish()
  assert.throws(() => decodeRequest(many), { name: 'InvalidMessageError' })
  const good = encodeRequest({ type: 2, streamOpen: { peer: id, proto: ['/a'] } })
  assert.equal(decodeRequest(good.subarray(0, 2)).type, 2, "a cut at a field boundary is a valid shorter message")
  for (let cut = 3; cut < good.length; cut++) {
    assert.throws(() => decodeRequest(good.subarray(0, cut)), { name: 'InvalidMessageError' }, `cut at ${cut}`)
  }
  assert.throws(() => decodeRequest(Uint8Array.of(0x0a, 0x00)), { name: 'InvalidMessageError' }, 'type as bytes')
})

test('random bytes never crash the decoders with anything but typed errors', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
    for (const decode of [decodeRequest, decodeResponse, decodeStreamInfo, decodeDHTResponse, decodePSMessage]) {
      try { decode(bytes) } catch (err) { assert.ok(['InvalidMessageError', 'MessageTooLargeError'].includes((err as Error).name), (err as Error).name) }
    }
  }), { numRuns: 2000 })
})
