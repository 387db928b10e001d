/**
 * js-libp2p as a one-process executable of the test-plans perf contract (perf/README.md), the
 * js side of `npm run interop:perf:compare` and of the cold-start figures of `npm run bench`
 * (bench/startup). It is what test-plans' own js-libp2p perf image runs: createLibp2p with
 * TCP + Noise + Yamux and the perf protocol, no other service; the client is one fresh process
 * that times itself, like ours (`ts-libp2p perf`), with no line-contract peer or pipe between
 * the clock and the connection (perf-peer.ts adds those; it stays for the interop matrix).
 *
 *   node interop/test-plans/js-perf.ts --run-server --server-address 127.0.0.1:4001
 *   node interop/test-plans/js-perf.ts --server-address 127.0.0.1:4001 [--transport tcp|quic-v1] \
 *     --upload-bytes N --download-bytes M
 *
 * Server: the zero-seed perf identity on /ip4/H/tcp/P and /ip4/H/udp/P/quic-v1; one line
 * `{"peerId":…,"addrs":[…]}` on stdout once listening; serves until SIGTERM/SIGINT.
 * Client: `intermediary` lines once a second and one `final` line on stdout, the time counted
 * as @libp2p/perf's measurePerformance (which test-plans' js client calls) counts it: from
 * before the dial of a new connection to the last byte downloaded; start-up is outside it.
 *
 * /perf/1.0.0 (libp2p specs perf/perf.md) is written on js-libp2p's stream API
 * (interop/js-peer/perf-wire.ts) because the @libp2p/perf package is not in the registry this
 * project installs from.
 */
import { performance } from 'node:perf_hooks'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import type { Stream, StreamMessageEvent, StreamCloseEvent } from '@libp2p/interface'
import { parsePerfArgs } from './perf-args.ts'
import { PERF_PROTOCOL, decodePerfRequest, encodePerfRequest, sendZeros } from '../js-peer/perf-wire.ts'

/** Every wait on a stream ends after this long without the stream finishing. */
const STREAM_TIMEOUT_MS = 600_000
const REPORT_INTERVAL_MS = 1000

/**
 * Feeds every received chunk to `onChunk`; resolves once the remote closed its side, rejects
 * when the stream closes with an error or the signal fires.
 */
async function receive (stream: Stream, onChunk: (chunk: Uint8Array) => void, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    const done = (err?: Error): void => {
      signal.removeEventListener('abort', onAbort)
      if (err != null) reject(err)
      else resolve()
    }
    stream.addEventListener('message', (evt: StreamMessageEvent) => { onChunk(evt.data instanceof Uint8Array ? evt.data : evt.data.subarray()) })
    stream.addEventListener('end', () => { done() })
    stream.addEventListener('close', (evt: StreamCloseEvent) => { done(evt.error) })
    if (stream.readStatus === 'closed') done()
  })
}

/** The server's side: the request, the upload to its end, then the bytes asked for, then close. */
async function serve (stream: Stream): Promise<void> {
  const signal = AbortSignal.timeout(STREAM_TIMEOUT_MS)
  const request = new Uint8Array(8)
  let requestLength = 0
  try {
    await receive(stream, (chunk) => {
      const take = Math.min(8 - requestLength, chunk.byteLength)
      request.set(chunk.subarray(0, take), requestLength)
      requestLength += take
    }, signal)
    if (requestLength < 8) throw new Error(`the stream ended after ${requestLength} of 8 request bytes`)
    await sendZeros(stream, decodePerfRequest(request), signal)
    await stream.close({ signal })
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
  }
}

async function runServer (family: string, host: string, port: number): Promise<void> {
  const { quic } = await import('@chainsafe/libp2p-quic')
  const node = await createLibp2p({
    privateKey: await generateKeyPairFromSeed('Ed25519', new Uint8Array(32)),
    addresses: { listen: [`/${family}/${host}/tcp/${port}`, `/${family}/${host}/udp/${port}/quic-v1`] },
    transports: [tcp(), quic()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
  await node.handle(PERF_PROTOCOL, (stream) => serve(stream), { maxInboundStreams: 64, maxOutboundStreams: 64 })
  process.stdout.write(`${JSON.stringify({ peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map(String) })}\n`)
  await new Promise<void>((resolve) => { process.once('SIGTERM', resolve); process.once('SIGINT', resolve) })
  await node.stop()
}

async function runClient (family: string, host: string, port: number, transport: string, upload: number, download: number): Promise<void> {
  const serverId = (await import('@libp2p/peer-id')).peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', new Uint8Array(32)))
  const overQuic = transport === 'quic-v1'
  const node = await createLibp2p({
    transports: overQuic ? [(await import('@chainsafe/libp2p-quic')).quic()] : [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
  const target = multiaddr(overQuic ? `/${family}/${host}/udp/${port}/quic-v1/p2p/${serverId}` : `/${family}/${host}/tcp/${port}/p2p/${serverId}`)
  const signal = AbortSignal.timeout(STREAM_TIMEOUT_MS)
  const counters = { up: 0, down: 0 }
  // measurePerformance's clock: it starts before the connection is opened
  const started = performance.now()
  let lastReport = started
  const reported = { up: 0, down: 0 }
  const reporter = setInterval(() => {
    const now = performance.now()
    process.stdout.write(`${JSON.stringify({ type: 'intermediary', timeSeconds: (now - lastReport) / 1000, uploadBytes: counters.up - reported.up, downloadBytes: counters.down - reported.down })}\n`)
    lastReport = now
    reported.up = counters.up
    reported.down = counters.down
  }, REPORT_INTERVAL_MS)
  try {
    const connection = await node.dial(target, { signal })
    const stream = await connection.newStream(PERF_PROTOCOL, { signal })
    const receiving = receive(stream, (chunk) => { counters.down += chunk.byteLength }, signal)
    stream.send(encodePerfRequest(download))
    await sendZeros(stream, upload, signal, (n) => { counters.up += n })
    await stream.close({ signal })
    await receiving
    const timeSeconds = (performance.now() - started) / 1000
    clearInterval(reporter)
    if (counters.down !== download) throw new Error(`the perf server sent ${counters.down} bytes, ${download} were asked for`)
    process.stdout.write(`${JSON.stringify({ type: 'final', timeSeconds, uploadBytes: counters.up, downloadBytes: counters.down })}\n`)
  } finally {
    clearInterval(reporter)
    await node.stop()
  }
}

async function main (): Promise<void> {
  const { family, host, port, client } = parsePerfArgs(process.argv.slice(2))
  if (client === undefined) return await runServer(family, host, port)
  await runClient(family, host, port, client.transport, client.uploadBytes, client.downloadBytes)
}

main().then(() => { process.exit(0) }, (err) => {
  process.stderr.write(`js-perf: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
