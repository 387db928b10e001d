import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p } from '../../src/index.ts'
import { perf, PerfService, perfOverStream, servePerf, encodePerfRequest, decodePerfRequest, PERF_PROTOCOL, type PerfOutput } from '../../src/protocols/perf/index.ts'
import { InvalidMessageError, InvalidParametersError, StreamResetError, TimeoutError, UnexpectedEOFError } from '../../src/util/errors.ts'
import type { Stream } from '../../src/interface/stream.ts'
import { FakeRegistrar, FakeStream, connectFakePeers, fakeConnectionManager, fakePeerId, logger } from '../support/fake-connections.ts'

const MiB = 1024 * 1024

function pair (hwm = 16 * 1024): [FakeStream, FakeStream] {
  const client = new FakeStream('1', 'outbound', PERF_PROTOCOL, hwm)
  const server = new FakeStream('1', 'inbound', PERF_PROTOCOL, hwm)
  client.peer = server
  server.peer = client
  return [client, server]
}

function setup (options: ConstructorParameters<typeof PerfService>[1] = {}) {
  const a = { peerId: fakePeerId('A'), registrar: new FakeRegistrar() }
  const b = { peerId: fakePeerId('B'), registrar: new FakeRegistrar() }
  const [ab, ba] = connectFakePeers(a, b)
  const perfA = new PerfService({ registrar: a.registrar, connectionManager: fakeConnectionManager([ab]), logger }, options)
  const perfB = new PerfService({ registrar: b.registrar, connectionManager: fakeConnectionManager([ba]), logger }, options)
  perfB.start()
  return { a, b, ab, ba, perfA, perfB }
}

async function collect (outputs: AsyncIterable<PerfOutput>): Promise<PerfOutput[]> {
  const all: PerfOutput[] = []
  for await (const output of outputs) all.push(output)
  return all
}

test('the request is an 8-byte big-endian u64', () => {
  assert.deepEqual(encodePerfRequest(0), new Uint8Array(8))
  assert.deepEqual(encodePerfRequest(1), Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1))
  assert.deepEqual(encodePerfRequest(0x1_0203_0405), Uint8Array.of(0, 0, 0, 1, 2, 3, 4, 5))
  assert.deepEqual(encodePerfRequest(Number.MAX_SAFE_INTEGER), Uint8Array.of(0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
  for (const n of [0, 1, 255, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER]) {
    assert.equal(decodePerfRequest(encodePerfRequest(n)), n)
  }
  // the spec allows up to 2^64 - 1 ("until I hang up"): clamped, never wrong or negative
  assert.equal(decodePerfRequest(new Uint8Array(8).fill(0xff)), Number.MAX_SAFE_INTEGER)
  assert.equal(decodePerfRequest(Uint8Array.of(0, 0x20, 0, 0, 0, 0, 0, 0)), Number.MAX_SAFE_INTEGER)
  for (const bad of [-1, 1.5, Number.NaN, Infinity, 2 ** 53]) assert.throws(() => encodePerfRequest(bad), InvalidParametersError)
  for (const length of [0, 7, 9]) assert.throws(() => decodePerfRequest(new Uint8Array(length)), InvalidParametersError)
})

test('random requests decode to safe non-negative integers', () => {
  for (let i = 0; i < 1000; i++) {
    const n = decodePerfRequest(crypto.getRandomValues(new Uint8Array(8)))
    assert.ok(Number.isSafeInteger(n) && n >= 0, String(n))
  }
})

test('client and server move exact byte counts, including odd sizes and zero', async () => {
  for (const [up, down] of [[0, 0], [1, 0], [0, 1], [3 * MiB + 17, 2 * MiB + 5], [65_536, 65_536]]) {
    const [client, server] = pair()
    const serving = servePerf(server)
    const counters = { uploadBytes: 0, downloadBytes: 0 }
    await perfOverStream(client, up, down, counters)
    assert.deepEqual(counters, { uploadBytes: up, downloadBytes: down })
    assert.deepEqual(await serving, { received: up, sent: down })
    await Promise.all([client.closed, server.closed])
    assert.equal(client.status, 'closed')
    assert.equal(server.status, 'closed')
  }
})

test('the server sends nothing until the upload has ended', async () => {
  const [client, server] = pair(4096)
  const serving = servePerf(server)
  await client.write(encodePerfRequest(10_000))
  // each write waits until the server has read below the high-water mark, so the server is
  // busy draining; had it started sending, bytes would be waiting for us
  for (let i = 0; i < 8; i++) await client.write(new Uint8Array(4096))
  assert.equal(client.readableLength, 0)
  await client.closeWrite()
  let received = 0
  for await (const chunk of client) received += chunk.length
  assert.equal(received, 10_000)
  assert.deepEqual(await serving, { received: 8 * 4096, sent: 10_000 })
})

test('the server reuses one block: no allocation per block sent', async () => {
  const [client, server] = pair(1024 * 1024)
  const seen = new Set<ArrayBufferLike>()
  const deliver = client.deliver.bind(client)
  client.deliver = (chunk: Uint8Array) => { seen.add(chunk.buffer); deliver(chunk) }
  const serving = servePerf(server)
  await perfOverStream(client, 0, 20 * 65_536 + 3, { uploadBytes: 0, downloadBytes: 0 })
  await serving
  assert.equal(seen.size, 1)
})

test('a truncated request is a typed error and resets the stream', async () => {
  const [client, server] = pair()
  const serving = servePerf(server)
  await client.write(Uint8Array.of(0, 0, 0))
  await client.closeWrite()
  await assert.rejects(serving, UnexpectedEOFError)
  await client.closed
  assert.equal(client.status, 'reset')
  assert.ok(client.error instanceof StreamResetError)
})

test('random bytes as a request: the server answers or is stopped by the client, never hangs', async () => {
  for (let i = 0; i < 20; i++) {
    const [client, server] = pair()
    const serving = servePerf(server, { idleTimeout: 1000 })
    const junk = crypto.getRandomValues(new Uint8Array(1 + (i * 7) % 40))
    await client.write(junk)
    await client.closeWrite()
    const wanted = junk.length >= 8 ? decodePerfRequest(junk.subarray(0, 8)) : -1
    if (wanted === -1) {
      await assert.rejects(serving, UnexpectedEOFError)
      continue
    }
    // read a little of what may be a huge answer, then hang up
    const first = await client.read()
    assert.ok(first === null || first.length > 0)
    client.abort(new Error('enough'))
    await assert.rejects(serving)
  }
})

test('an idle server stream is aborted after idleTimeout', async () => {
  const [client, server] = pair()
  await assert.rejects(servePerf(server, { idleTimeout: 20 }), TimeoutError)
  await client.closed
  assert.equal(client.status, 'reset')
})

test('a server sending too many or too few bytes is a typed client error', async () => {
  for (const [extra, error] of [[1, InvalidMessageError], [-1, UnexpectedEOFError]] as const) {
    const [client, server] = pair()
    void (async () => {
      for await (const _ of server) { /* drain the upload */ }
      await server.write(new Uint8Array(1000 + extra))
      await server.closeWrite()
    })().catch(() => {})
    await assert.rejects(perfOverStream(client, 10, 1000, { uploadBytes: 0, downloadBytes: 0 }), error)
    assert.notEqual(client.status, 'open')
  }
})

test('perfOverStream rejects bad sizes before sending anything', async () => {
  const [client] = pair()
  await assert.rejects(perfOverStream(client, -1, 0, { uploadBytes: 0, downloadBytes: 0 }), InvalidParametersError)
  assert.equal(client.status, 'aborted')
})

test('measurePerformance: one final report with exact totals', async () => {
  const { ab, perfA } = setup()
  const outputs = await collect(perfA.measurePerformance(ab, 2 * MiB, 3 * MiB))
  const final = outputs.at(-1)
  assert.equal(final?.type, 'final')
  assert.equal(final.uploadBytes, 2 * MiB)
  assert.equal(final.downloadBytes, 3 * MiB)
  assert.ok(final.timeSeconds >= 0)
  assert.ok(outputs.slice(0, -1).every(o => o.type === 'intermediary'))
})

test('measurePerformance: intermediary reports carry deltas that add up to the totals', async () => {
  const { b, ab, perfA } = setup({ reportInterval: 1 })
  // a server that holds its answer until the client has reported progress at least twice
  let release!: () => void
  const gate = new Promise<void>(resolve => { release = resolve })
  b.registrar.unhandle(PERF_PROTOCOL)
  b.registrar.handle(PERF_PROTOCOL, async (stream: Stream) => {
    for await (const _ of stream) { /* upload */ }
    await gate
    await stream.write(new Uint8Array(5000))
    await stream.close()
  })
  const outputs: PerfOutput[] = []
  for await (const output of perfA.measurePerformance(ab, 100_000, 5000)) {
    outputs.push(output)
    if (outputs.length === 2) release()
  }
  const intermediary = outputs.filter(o => o.type === 'intermediary')
  assert.ok(intermediary.length >= 2)
  const final = outputs.at(-1)!
  assert.equal(final.type, 'final')
  assert.equal(intermediary.reduce((sum, o) => sum + o.uploadBytes, 0) <= 100_000, true)
  assert.equal(intermediary.reduce((sum, o) => sum + o.downloadBytes, 0) <= 5000, true)
  assert.deepEqual([final.uploadBytes, final.downloadBytes], [100_000, 5000])
  for (const o of intermediary) {
    assert.ok(o.timeSeconds >= 0 && o.uploadBytes >= 0 && o.downloadBytes >= 0, JSON.stringify(o))
  }
})

test('measurePerformance: a stalled server fails with a TimeoutError', async () => {
  const { b, ab, perfA } = setup({ reportInterval: 2, stallTimeout: 20 })
  b.registrar.unhandle(PERF_PROTOCOL)
  b.registrar.handle(PERF_PROTOCOL, () => { /* never reads, never answers */ })
  await assert.rejects(collect(perfA.measurePerformance(ab, 0, 10)), TimeoutError)
})

test('measurePerformance: abort signal and breaking out of the loop both stop the transfer', async () => {
  const { ab, ba, perfA } = setup({ reportInterval: 1 })
  const controller = new AbortController()
  const reason = new Error('stop now')
  const run = collect(perfA.measurePerformance(ab, Number.MAX_SAFE_INTEGER, 0, { signal: controller.signal }))
  setTimeout(() => { controller.abort(reason) }, 5)
  await assert.rejects(run, (err) => err === reason)
  await Promise.all(ba.streams.map(async s => await s.closed))
  assert.ok(ba.streams.every(s => s.status === 'reset'))

  for await (const output of perfA.measurePerformance(ab, Number.MAX_SAFE_INTEGER, 0)) {
    assert.equal(output.type, 'intermediary')
    break
  }
  const last = ab.streams.at(-1)!
  assert.equal(last.status, 'aborted')
})

test('measurePerformance: invalid sizes are rejected', async () => {
  const { ab, perfA } = setup()
  await assert.rejects(collect(perfA.measurePerformance(ab, -1, 0)), InvalidParametersError)
  await assert.rejects(collect(perfA.measurePerformance(ab, 0, 0.5)), InvalidParametersError)
  assert.equal(ab.streams.length, 0)
})

test('perf serves only /perf/1.0.0, only when enabled, and stop aborts inbound streams', async () => {
  const { a, b, ab, perfB } = setup()
  assert.deepEqual(b.registrar.getProtocols(), [PERF_PROTOCOL])
  assert.deepEqual(a.registrar.getProtocols(), [])
  const stream = await ab.newStream(PERF_PROTOCOL)
  await stream.write(encodePerfRequest(0))
  // the handler runs on a microtask; wait until the server has the stream
  while (ab.other.streams.length === 0) await new Promise(resolve => setImmediate(resolve))
  perfB.stop()
  await stream.closed
  assert.equal(stream.status, 'reset')
  assert.deepEqual(b.registrar.getProtocols(), [])
})

test('two real nodes over TCP: 10 MiB each way on a fresh connection', async (t) => {
  const listen = { addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] } }
  const server = await createLibp2p({ ...listen, services: { perf: perf() } })
  const client = await createLibp2p({ addresses: { listen: [] }, services: { perf: perf() } })
  t.after(async () => { await Promise.all([client.stop(), server.stop()]) })
  const outputs = await collect(client.services.perf.measurePerformance(server.getMultiaddrs()[0], 10 * MiB, 10 * MiB))
  const final = outputs.at(-1)!
  assert.deepEqual([final.type, final.uploadBytes, final.downloadBytes], ['final', 10 * MiB, 10 * MiB])
  // the measurement closed the connection it opened for itself
  assert.equal(client.getConnections().length, 0)
})
