import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FrameBatch } from '../../src/muxer/frame-batch.ts'
import { duplexPair } from '../../src/util/duplex-pair.ts'

function header (batch: FrameBatch, byte: number): void {
  const o = batch.reserve(3)
  batch.scratch.fill(byte, o, o + 3)
}

test('small frames written in one turn reach the connection as one chunk', async () => {
  const [a, b] = duplexPair()
  const batch = new FrameBatch(a, { onDrain () {}, onError (err) { throw err } })
  for (let i = 0; i < 100; i++) {
    header(batch, i)
    batch.payload(Uint8Array.of(i, i))
    batch.commit()
  }
  assert.equal(b.readableLength, 0, 'nothing is written before the microtask')
  await Promise.resolve()
  const chunk = await b.read()
  assert.equal(chunk!.length, 500)
  assert.deepEqual([...chunk!.subarray(0, 10)], [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
  assert.equal(b.readableLength, 0)
})

test('large payloads pass through by reference, in order with their headers', async () => {
  const [a, b] = duplexPair({ highWaterMark: 1 << 30 })
  const batch = new FrameBatch(a, { onDrain () {}, onError (err) { throw err } })
  const big = new Uint8Array(64 * 1024).fill(7)
  header(batch, 1)
  batch.payload(Uint8Array.of(9))
  header(batch, 2)
  batch.payload(big)
  header(batch, 3)
  batch.commit()
  batch.flush()
  const first = await b.read()
  const second = await b.read()
  const third = await b.read()
  assert.deepEqual([...first!], [1, 1, 1, 9, 2, 2, 2])
  assert.equal(second, big)
  assert.deepEqual([...third!], [3, 3, 3])
})

test('reports a blocked connection and calls onDrain once it drains', async () => {
  const [a, b] = duplexPair({ highWaterMark: 10 })
  let drained = 0
  const batch = new FrameBatch(a, { onDrain () { drained++ }, onError (err) { throw err } })
  header(batch, 1)
  batch.payload(new Uint8Array(100))
  batch.flush()
  assert.equal(batch.blocked, true)
  await b.read()
  await Promise.resolve()
  assert.equal(batch.blocked, false)
  assert.equal(drained, 1)
})

test('a closed batch drops frames instead of buffering them', () => {
  const [a] = duplexPair()
  const batch = new FrameBatch(a, { onDrain () {}, onError (err) { throw err } })
  batch.close()
  for (let i = 0; i < 10; i++) {
    header(batch, 1)
    batch.payload(new Uint8Array(1000))
    batch.commit()
  }
  assert.equal(batch.pendingBytes, 0)
})
