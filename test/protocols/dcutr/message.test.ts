/**
 * The DCUtR HolePunch codec: round trips, the spec's field numbers and type values, and hostile
 * input (oversized, truncated, unknown type, missing type, too many or too long addresses,
 * random bytes) always ending in a typed error, never a crash or an unbounded allocation.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { multiaddr } from '@multiformats/multiaddr'
import { decodeHolePunch, encodeHolePunch, MAX_HOLE_PUNCH_MESSAGE_SIZE } from '../../../src/protocols/dcutr/message.ts'
import { ProtobufWriter } from '../../../src/util/protobuf.ts'

const addr = multiaddr('/ip4/11.0.0.11/tcp/41001').bytes

test('CONNECT and SYNC round-trip with the spec\'s wire values', () => {
  const connect = encodeHolePunch({ type: 'CONNECT', observedAddrs: [addr] })
  // field 1 varint 100 (0x08 0x64), field 2 bytes
  assert.deepEqual([...connect.subarray(0, 4)], [0x08, 0x64, 0x12, addr.length])
  assert.deepEqual(decodeHolePunch(connect), { type: 'CONNECT', observedAddrs: [addr] })
  const sync = encodeHolePunch({ type: 'SYNC', observedAddrs: [] })
  // 300 = 0xac 0x02
  assert.deepEqual([...sync], [0x08, 0xac, 0x02])
  assert.deepEqual(decodeHolePunch(sync), { type: 'SYNC', observedAddrs: [] })
})

test('unknown fields are skipped (forward compatibility)', () => {
  const bytes = new ProtobufWriter().uint(1, 100).string(9, 'future').bytes(2, addr).finish()
  assert.deepEqual(decodeHolePunch(bytes), { type: 'CONNECT', observedAddrs: [addr] })
})

test('hostile messages get InvalidMessageError', () => {
  const cases: Array<[string, Uint8Array]> = [
    ['empty (no type)', new Uint8Array(0)],
    ['unknown type', new ProtobufWriter().uint(1, 200).finish()],
    ['type 0', new ProtobufWriter().uint(1, 0).finish()],
    ['truncated varint', Uint8Array.of(0x08, 0xac)],
    ['address longer than the message', Uint8Array.of(0x08, 0x64, 0x12, 0x7f, 1, 2)],
    ['address over 1024 bytes', new ProtobufWriter().uint(1, 100).bytes(2, new Uint8Array(1025)).finish()],
    ['65 addresses', (() => { const w = new ProtobufWriter().uint(1, 100); for (let i = 0; i < 65; i++) w.bytes(2, addr); return w.finish() })()],
    ['over 4 KiB', new ProtobufWriter().uint(1, 100).bytes(2, new Uint8Array(MAX_HOLE_PUNCH_MESSAGE_SIZE)).finish()],
    ['wrong wire type for the addresses', Uint8Array.of(0x08, 0x64, 0x10, 0x01)]
  ]
  for (const [name, bytes] of cases) {
    assert.throws(() => decodeHolePunch(bytes), { name: 'InvalidMessageError' }, name)
  }
})

test('random bytes: a message or a typed error, nothing else', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), bytes => {
    try {
      const msg = decodeHolePunch(bytes)
      assert.ok(msg.type === 'CONNECT' || msg.type === 'SYNC')
      assert.ok(msg.observedAddrs.length <= 64)
    } catch (err) {
      assert.equal((err as Error).name, 'InvalidMessageError', (err as Error).message)
    }
  }), { numRuns: 2000 })
})
