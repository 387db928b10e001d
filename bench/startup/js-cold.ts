/**
 * js-libp2p's side of the cold-start figures (bench/startup/measure.ts), as a js-libp2p user
 * would write it: TCP + Noise + Yamux, nothing else. Every client run is a fresh process.
 *
 *   node js-cold.js server             listens on 127.0.0.1, serves /perf/1.0.0 and ping;
 *                                      prints {"addrs":[...]} once listening, runs until SIGTERM
 *   node js-cold.js dial MA            createLibp2p + dial + one ping, then exits; prints
 *                                      {"connectedMs","pingedMs"} in ms since the process started
 *   node js-cold.js perf MA UP DOWN    the perf contract's client: connection + UP bytes up +
 *                                      DOWN bytes down; prints {"type":"final","timeSeconds",...}
 *                                      timed from before the dial, as the contract's clients do
 *
 * /perf/1.0.0 (libp2p specs perf/perf.md) by hand: @libp2p/perf is not available here.
 */
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { ping } from '@libp2p/ping'
import { multiaddr } from '@multiformats/multiaddr'
import type { Stream, StreamMessageEvent } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'

const PERF_PROTOCOL = '/perf/1.0.0'
const [mode, target, up, down] = process.argv.slice(2)

function perfRequest (bytes: number): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(bytes))
  return out
}

/** Resolves with the number of bytes received once the remote closed its side. */
async function receiveAll (stream: Stream, onChunk?: (chunk: Uint8Array) => void): Promise<number> {
  return await new Promise((resolve, reject) => {
    let total = 0
    stream.addEventListener('message', (evt: StreamMessageEvent) => {
      const data = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray()
      total += data.byteLength
      onChunk?.(data)
    })
    stream.addEventListener('end', () => { resolve(total) })
    stream.addEventListener('close', (evt) => { if (evt.error != null) reject(evt.error); else resolve(total) })
  })
}

async function serve (stream: Stream): Promise<void> {
  const request: number[] = []
  await receiveAll(stream, (chunk) => { for (let i = 0; i < chunk.length && request.length < 8; i++) request.push(chunk[i]) })
  const wanted = Number(new DataView(Uint8Array.from(request).buffer).getBigUint64(0))
  if (wanted > 0) stream.send(new Uint8Array(wanted))
  await stream.close()
}

if (mode === 'server') {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { ping: ping() }
  })
  await node.handle(PERF_PROTOCOL, (stream) => { serve(stream).catch((err) => { stream.abort(err) }) })
  process.once('SIGTERM', () => { void (async () => { await node.stop(); process.exit(0) })() })
  process.stdout.write(JSON.stringify({ addrs: node.getMultiaddrs().map(String) }) + '\n')
} else if (mode === 'dial' || mode === 'perf') {
  const started = performance.now()
  const node = await createLibp2p({
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { ping: ping() }
  })
  const ma = multiaddr(target)
  if (mode === 'dial') {
    const connection = await node.dial(ma)
    const connectedMs = performance.now()
    await (node.services.ping as Ping).ping(connection.remoteAddr)
    process.stdout.write(JSON.stringify({ connectedMs, pingedMs: performance.now() }) + '\n')
  } else {
    const upload = Number(up)
    const download = Number(down)
    const measureStart = performance.now()
    const stream = await node.dialProtocol(ma, PERF_PROTOCOL)
    const receiving = receiveAll(stream)
    stream.send(perfRequest(download))
    if (upload > 0) stream.send(new Uint8Array(upload))
    await stream.close()
    const received = await receiving
    if (received !== download) throw new Error(`perf server sent ${received} bytes, asked for ${download}`)
    const timeSeconds = (performance.now() - measureStart) / 1000
    process.stdout.write(JSON.stringify({ type: 'final', timeSeconds, uploadBytes: upload, downloadBytes: download, startedMs: started }) + '\n')
  }
  await node.stop()
} else {
  throw new Error(`usage: js-cold.ts server | dial MA | perf MA UP DOWN (got ${String(mode)})`)
}
