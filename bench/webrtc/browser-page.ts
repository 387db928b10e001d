/**
 * The page of bench/webrtc/browser.ts: ts-libp2p's browser build dials a WebRTC Direct server
 * (ours or js-libp2p's bench peer) with Chromium's RTCPeerConnection and measures dial + first
 * ping, one-stream upload and download over the bench's transfer protocol (bench/peers/wire.ts,
 * written again here because that module uses node:crypto), and holds `hold` connections open
 * for the server's memory figure.
 */
import { createLibp2p, multiaddr } from '../../src/index.ts'
import type { Connection } from '../../src/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import { webRTCDirect } from '../../src/transport/webrtc/webrtc-direct.ts'

const TRANSFER_PROTOCOL = '/ts-libp2p-bench/transfer/1.0.0'
const BLOCK = new Uint8Array(64 * 1024).fill(0x61)

function header (upload: number, download: number): Uint8Array {
  const h = new Uint8Array(16)
  const view = new DataView(h.buffer)
  view.setBigUint64(0, BigInt(upload))
  view.setBigUint64(8, BigInt(download))
  return h
}

/** One transfer stream: upload `up` bytes, then read `down` bytes until the server's end; ms. */
async function transfer (conn: Connection, up: number, down: number): Promise<number> {
  const started = performance.now()
  const stream = await conn.newStream(TRANSFER_PROTOCOL)
  await stream.write(header(up, down))
  for (let sent = 0; sent < up; sent += BLOCK.length) await stream.write(sent + BLOCK.length <= up ? BLOCK : BLOCK.subarray(0, up - sent))
  await stream.closeWrite()
  let received = 0
  for (let c = await stream.read(); c !== null; c = await stream.read()) received += c.length
  if (received !== down) throw new Error(`received ${received} of ${down} bytes`)
  await stream.close()
  return performance.now() - started
}

// (no resource manager: the page holds more connections to one address than its default allows)
const node = await createLibp2p({ transports: [webRTCDirect()], services: { ping: ping() }, resourceManager: false })

export interface PageFigures { dialPingMs: number[], uploadMs: number, downloadMs: number, held: number }

export async function run (addr: string, bytes: number, setup: number): Promise<PageFigures> {
  const target = multiaddr(addr)
  const dialPingMs: number[] = []
  for (let i = 0; i < setup; i++) {
    const started = performance.now()
    const conn = await node.dial(target, { force: true })
    await node.services.ping.ping(conn)
    dialPingMs.push(performance.now() - started)
    await conn.close()
  }
  const conn = await node.dial(target, { force: true })
  await transfer(conn, 1024 * 1024, 0) // warm-up
  const uploadMs = await transfer(conn, bytes, 0)
  const downloadMs = await transfer(conn, 0, bytes)
  await conn.close()
  return { dialPingMs, uploadMs, downloadMs, held: 0 }
}

const held: Connection[] = []

/** Opens `count` more connections and keeps them (for the server's memory per connection). */
export async function hold (addr: string, count: number): Promise<number> {
  for (let i = 0; i < count; i++) held.push(await node.dial(multiaddr(addr), { force: true }))
  return held.length
}

export async function release (): Promise<void> {
  await Promise.all(held.splice(0).map(async c => { await c.close() }))
}
