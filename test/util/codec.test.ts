import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeVarint, encodeVarint } from '../../src/util/varint.ts'
import { ProtobufReader, ProtobufWriter } from '../../src/util/protobuf.ts'
import { InvalidMessageError } from '../../src/util/errors.ts'

test('varint round-trips and matches the unsigned-varint vectors', () => {
  const vectors: Array<[number, number[]]> = [[1, [0x01]], [127, [0x7f]], [128, [0x80, 0x01]], [255, [0xff, 0x01]], [300, [0xac, 0x02]], [16384, [0x80, 0x80, 0x01]]]
  for (const [n, bytes] of vectors) {
    assert.deepEqual([...encodeVarint(n)], bytes)
    assert.deepEqual(decodeVarint(Uint8Array.from(bytes)), [n, bytes.length])
  }
  for (const n of [0, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
    assert.deepEqual(decodeVarint(encodeVarint(n)), [n, encodeVarint(n).length])
  }
})

test('varint rejects non-minimal, overlong and truncated input', () => {
  assert.throws(() => decodeVarint(Uint8Array.of(0x81, 0x00)), InvalidMessageError)
  assert.throws(() => decodeVarint(new Uint8Array(10).fill(0xff)), InvalidMessageError)
  assert.equal(decodeVarint(Uint8Array.of(0x80)), undefined)
})

test('protobuf writer and reader agree, and unknown fields are skipped', () => {
  const bytes = new ProtobufWriter(4).uint(1, 0).bytes(2, Uint8Array.of(1, 2, 3)).string(3, 'hé').uint64(4, 2n ** 63n).fixed64(7, 5n).uint(9, 1).finish()
  assert.deepEqual([...bytes.subarray(0, 2)], [0x08, 0x00])
  const r = new ProtobufReader(bytes)
  const seen: number[] = []
  while (!r.done) {
    const [field, wire] = r.tag()
    seen.push(field)
    if (field === 1) assert.equal(r.uint(wire), 0)
    else if (field === 2) assert.deepEqual([...r.bytes(wire)], [1, 2, 3])
    else if (field === 3) assert.equal(r.string(wire), 'hé')
    else if (field === 4) assert.equal(r.uint64(wire), 2n ** 63n)
    else r.skip(wire)
  }
  assert.deepEqual(seen, [1, 2, 3, 4, 7, 9])
})

test('protobuf reader rejects hostile lengths and truncation', () => {
  assert.throws(() => { const r = new ProtobufReader(Uint8Array.of(0x12, 0x7f, 1)); const [, w] = r.tag(); r.bytes(w) }, InvalidMessageError)
  assert.throws(() => { const r = new ProtobufReader(Uint8Array.of(0x12, 0x03, 1, 2, 3)); const [, w] = r.tag(); r.bytes(w, 2) }, InvalidMessageError)
  assert.throws(() => { const r = new ProtobufReader(Uint8Array.of(0x08)); const [, w] = r.tag(); r.uint(w) }, InvalidMessageError)
  assert.throws(() => { const r = new ProtobufReader(Uint8Array.of(0x00)); r.tag() }, InvalidMessageError)
  for (let i = 0; i < 2000; i++) {
    const junk = new Uint8Array(Math.floor(Math.random() * 40)).map(() => Math.floor(Math.random() * 256))
    const r = new ProtobufReader(junk)
    try { while (!r.done) { const [, w] = r.tag(); r.skip(w) } } catch (err) { assert.ok(err instanceof InvalidMessageError, String(err)) }
  }
})
