import { test } from 'node:test'
import assert from 'node:assert/strict'
import { duplexPair } from '../../src/util/duplex-pair.ts'
import { StreamReader, encodeLP, readLP } from '../../src/util/stream-reader.ts'
import { concatBytes } from '../../src/util/bytes.ts'
import { ConcurrentReadError, MessageTooLargeError, StreamClosedError, StreamResetError, UnexpectedEOFError } from '../../src/util/errors.ts'

test('bytes written before closeWrite all arrive, then EOF', async () => {
  const [a, b] = duplexPair({ highWaterMark: 16 })
  const sent: number[] = []
  const writer = (async () => {
    for (let i = 0; i < 100; i++) { sent.push(i); await a.write(Uint8Array.of(i, i)) }
    await a.closeWrite()
  })()
  const got: number[] = []
  for await (const chunk of b) for (let i = 0; i < chunk.length; i += 2) got.push(chunk[i])
  await writer
  assert.deepEqual(got, sent)
  assert.equal(a.writeStatus, 'closed')
  assert.equal(b.readStatus, 'closed')
})

test('send reports backpressure and drain releases it', async () => {
  const [a, b] = duplexPair({ highWaterMark: 4 })
  assert.equal(a.send(new Uint8Array(3)), true)
  assert.equal(a.send(new Uint8Array(3)), false)
  let drained = false
  const d = a.drain().then(() => { drained = true })
  await Promise.resolve()
  assert.equal(drained, false)
  await b.read()
  await b.read()
  await d
  assert.equal(drained, true)
})

test('a second concurrent read is refused instead of stealing bytes', async () => {
  const [, b] = duplexPair()
  const first = b.read()
  await assert.rejects(b.read(), ConcurrentReadError)
  b.abort(new Error('done'))
  await assert.rejects(first)
})

test('abort rejects the pending read on both ends and resolves closed', async () => {
  const [a, b] = duplexPair()
  const pending = b.read()
  a.abort(new Error('boom'))
  await assert.rejects(pending, StreamResetError)
  assert.throws(() => b.send(Uint8Array.of(1)), StreamResetError)
  await a.closed
  await b.closed
  assert.equal(a.status, 'aborted')
  assert.equal(b.status, 'reset')
})

test('writing after closeWrite throws StreamClosedError', async () => {
  const [a] = duplexPair()
  await a.closeWrite()
  assert.throws(() => a.send(Uint8Array.of(1)), StreamClosedError)
})

test('read honours its abort signal', async () => {
  const [, b] = duplexPair()
  const ac = new AbortController()
  const p = b.read({ signal: ac.signal })
  ac.abort(new Error('stop'))
  await assert.rejects(p, /stop/)
})

test('StreamReader reads split LP messages and releases extra bytes', async () => {
  const [a, b] = duplexPair()
  const msg = encodeLP(new TextEncoder().encode('hello'))
  a.send(msg.subarray(0, 2))
  a.send(msg.subarray(2))
  a.send(Uint8Array.of(9, 9))
  const got = await readLP(b, { maxLength: 100 })
  assert.equal(new TextDecoder().decode(got), 'hello')
  assert.deepEqual(await b.read(), Uint8Array.of(9, 9))
})

test('StreamReader takeQueued + takeLP parse a queued chunk without waiting, and leave partial or oversized messages to readLP', async () => {
  const [a, b] = duplexPair()
  const reader = new StreamReader(b)
  assert.equal(reader.takeQueued(), false, 'nothing queued yet')
  a.send(concatBytes([encodeLP(Uint8Array.of(1, 2)), encodeLP(Uint8Array.of(3)), Uint8Array.of(0x05, 4)]))
  await new Promise<void>(resolve => { setImmediate(resolve) })
  assert.equal(reader.takeQueued(), true)
  assert.equal(reader.takeQueued(), false, 'only with nothing buffered')
  assert.deepEqual(reader.takeLP(10), Uint8Array.of(1, 2))
  assert.deepEqual(reader.takeLP(10), Uint8Array.of(3))
  // 5 bytes announced, 1 buffered: nothing consumed, readLP waits for the rest
  assert.equal(reader.takeLP(10), undefined)
  assert.equal(reader.buffered, 2)
  a.send(Uint8Array.of(5, 6, 7, 8))
  assert.deepEqual(await reader.readLP({ maxLength: 10 }), Uint8Array.of(4, 5, 6, 7, 8))
  // over the limit: left to readLP, which reports it
  a.send(encodeLP(new Uint8Array(20)))
  await new Promise<void>(resolve => { setImmediate(resolve) })
  reader.takeQueued()
  assert.equal(reader.takeLP(10), undefined)
  await assert.rejects(reader.readLP({ maxLength: 10 }), MessageTooLargeError)
})

test('StreamReader enforces the length limit and reports truncation', async () => {
  const [a, b] = duplexPair()
  a.send(encodeLP(new Uint8Array(50)))
  await assert.rejects(readLP(b, { maxLength: 10 }), MessageTooLargeError)
  const [c, d] = duplexPair()
  c.send(Uint8Array.of(5, 1, 2))
  await c.closeWrite()
  await assert.rejects(new StreamReader(d).readLP({ maxLength: 10 }), UnexpectedEOFError)
  const [e, f] = duplexPair()
  e.send(Uint8Array.of(0xff, 0xff, 0xff, 0xff))
  await assert.rejects(readLP(f, { maxLength: 1024 }), MessageTooLargeError)
})

/** A stream that hands out `chunks` one per read, then end-of-stream. */
function chunkSource (chunks: Uint8Array[]): { read: () => Promise<Uint8Array | null>, unshift: (c: Uint8Array) => void } {
  let i = 0
  return {
    read: async () => i < chunks.length ? chunks[i++] : null,
    unshift: (c: Uint8Array) => { chunks.splice(i, 0, c) }
  }
}

test('StreamReader copies each byte of a message spread over many chunks once (1 MiB in 1 KiB chunks)', async () => {
  const size = 1024 * 1024
  const message = encodeLP(Uint8Array.from({ length: size }, (_, i) => i * 7))
  const chunks: Uint8Array[] = []
  for (let at = 0; at < message.length; at += 1024) chunks.push(message.subarray(at, at + 1024))
  chunks.push(Uint8Array.of(42))
  const source = chunkSource(chunks)
  const reader = new StreamReader(source as any)
  // Count the bytes every Uint8Array#set copies while the message is read: joining chunk by
  // chunk copied ~size * chunks / 2 (512 MiB here).
  const set = Uint8Array.prototype.set
  let copied = 0
  Uint8Array.prototype.set = function (this: Uint8Array, array: ArrayLike<number>, offset?: number) {
    copied += array.length
    return set.call(this, array, offset)
  } as typeof set
  let got: Uint8Array | null
  try {
    got = await reader.readLP({ maxLength: size })
  } finally {
    Uint8Array.prototype.set = set
  }
  assert.ok(copied <= size + 1024, `copied ${copied} bytes for a ${size}-byte message`)
  assert.deepEqual(got, message.subarray(message.length - size))
  reader.release()
  assert.deepEqual(await source.read(), Uint8Array.of(42))
})

test('StreamReader keeps the bytes of a message it was gathering when the read fails', async () => {
  const [a, b] = duplexPair()
  const reader = new StreamReader(b)
  a.send(Uint8Array.of(1, 2))
  await reader.readExactly(1)
  const ac = new AbortController()
  const pending = reader.readExactly(4, { signal: ac.signal })
  ac.abort(new Error('gave up'))
  await assert.rejects(pending, /gave up/)
  a.send(Uint8Array.of(3, 4, 5))
  assert.deepEqual(await reader.readExactly(4), Uint8Array.of(2, 3, 4, 5))
})

test('StreamReader holds no memory for an announced length before its bytes arrive', async () => {
  const [a, b] = duplexPair()
  const reader = new StreamReader(b)
  const announced = 64 * 1024 * 1024
  const before = process.memoryUsage().arrayBuffers
  a.send(Uint8Array.of(0x80, 0x80, 0x80, 0x20, 1, 2, 3)) // varint 64 MiB, then 3 bytes
  const ac = new AbortController()
  const pending = reader.readLP({ maxLength: announced, signal: ac.signal })
  await new Promise(resolve => setImmediate(resolve))
  const held = process.memoryUsage().arrayBuffers - before
  ac.abort(new Error('gave up'))
  await assert.rejects(pending, /gave up/)
  assert.ok(held < 1024 * 1024, `${held} bytes held for 3 bytes received`)
})
