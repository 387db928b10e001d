import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { decodeMessage, encodeMessage, MessageType, DEFAULT_MESSAGE_LIMITS, type DhtMessage } from '../../src/dht/message.ts'
import { encodePeer } from '../../src/dht/message.ts'
import { ProtobufWriter } from '../../src/util/protobuf.ts'
import { Libp2pError } from '../../src/util/errors.ts'

const peer = (n: number): { id: Uint8Array, addrs: Uint8Array[], connection: 0 } => ({ id: Uint8Array.of(0, 4, n, n, n, n), addrs: [Uint8Array.of(4, 127, 0, 0, n, 6, 0, 80)], connection: 0 })

describe('DHT message codec', () => {
  it('round-trips every field', () => {
    const message: DhtMessage = {
      type: MessageType.GET_VALUE,
      key: new TextEncoder().encode('/pk/abc'),
      record: { key: new TextEncoder().encode('/pk/abc'), value: Uint8Array.of(1, 2, 3), timeReceived: '2024-01-01T00:00:00.000Z' },
      closerPeers: [peer(1), peer(2)],
      providerPeers: [{ ...peer(3), connection: 1 }],
      clusterLevelRaw: 7
    }
    assert.deepEqual(decodeMessage(encodeMessage(message)), message)
  })

  it('writes PUT_VALUE = 0 explicitly and decodes an empty message as PUT_VALUE', () => {
    const bytes = encodeMessage({ type: MessageType.PUT_VALUE, closerPeers: [], providerPeers: [] })
    assert.deepEqual([...bytes], [0x08, 0x00])
    assert.equal(decodeMessage(new Uint8Array(0)).type, MessageType.PUT_VALUE)
  })

  it('matches the wire bytes go and js produce for FIND_NODE', () => {
    // type=4 (08 04), key (12 03 01 02 03)
    const bytes = encodeMessage({ type: MessageType.FIND_NODE, key: Uint8Array.of(1, 2, 3), closerPeers: [], providerPeers: [] })
    assert.deepEqual([...bytes], [0x08, 0x04, 0x12, 0x03, 1, 2, 3])
  })

  it('rejects unknown message types and peers without ids', () => {
    assert.throws(() => decodeMessage(Uint8Array.of(0x08, 0x09)), { code: 'ERR_INVALID_MESSAGE' })
    const w = new ProtobufWriter()
    w.uint(1, 4)
    w.bytes(8, new Uint8Array(0))
    assert.throws(() => decodeMessage(w.finish()), { code: 'ERR_INVALID_MESSAGE' })
  })

  it('keeps at most maxPeers peers and maxAddrs addresses however many are sent', () => {
    const w = new ProtobufWriter()
    w.uint(1, MessageType.FIND_NODE)
    for (let i = 0; i < 5000; i++) w.bytes(8, encodePeer(peer(i & 0xff)))
    const manyAddrs = { id: Uint8Array.of(0, 1, 9), addrs: Array.from({ length: 1000 }, () => Uint8Array.of(4, 1, 2, 3, 4)), connection: 0 as const }
    w.bytes(9, encodePeer(manyAddrs))
    const decoded = decodeMessage(w.finish())
    assert.equal(decoded.closerPeers.length, DEFAULT_MESSAGE_LIMITS.maxPeers)
    assert.equal(decoded.providerPeers[0].addrs.length, DEFAULT_MESSAGE_LIMITS.maxAddrs)
  })

  it('rejects oversized keys, peer ids and addresses', () => {
    const big = new Uint8Array(DEFAULT_MESSAGE_LIMITS.maxKeyLength + 1)
    assert.throws(() => decodeMessage(encodeMessage({ type: 1, key: big, closerPeers: [], providerPeers: [] })), { code: 'ERR_INVALID_MESSAGE' })
    assert.throws(() => decodeMessage(encodeMessage({ type: 4, closerPeers: [{ id: new Uint8Array(200), addrs: [], connection: 0 }], providerPeers: [] })), { code: 'ERR_INVALID_MESSAGE' })
    assert.throws(() => decodeMessage(encodeMessage({ type: 4, closerPeers: [{ id: Uint8Array.of(1), addrs: [new Uint8Array(2000)], connection: 0 }], providerPeers: [] })), { code: 'ERR_INVALID_MESSAGE' })
  })

  it('throws only typed errors on truncated and random input', () => {
    const full = encodeMessage({
      type: MessageType.GET_PROVIDERS,
      key: Uint8Array.of(0x12, 0x20, ...new Uint8Array(32)),
      record: { key: Uint8Array.of(1), value: Uint8Array.of(2), timeReceived: 'x' },
      closerPeers: [peer(1), peer(2)],
      providerPeers: [peer(3)]
    })
    for (let n = 0; n < full.length; n++) {
      try { decodeMessage(full.subarray(0, n)) } catch (err) { assert.ok(err instanceof Libp2pError, `truncated at ${n}: ${String(err)}`) }
    }
    for (let i = 0; i < 3000; i++) {
      const junk = crypto.getRandomValues(new Uint8Array(1 + (i % 200)))
      try { decodeMessage(junk) } catch (err) { assert.ok(err instanceof Libp2pError, String(err)) }
    }
  })
})
