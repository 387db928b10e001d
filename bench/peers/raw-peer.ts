/**
 * The physical reference: what the machine does without libp2p. Plain node:net sockets
 * (one connection where libp2p opens a stream; a mode byte where libp2p negotiates a protocol)
 * and node:crypto ChaCha20-Poly1305 on one core. Same commands as ts-peer.ts and js-peer.ts,
 * plus `cipher`. Driven by bench/run.ts through the JSON-line loop of peer-loop.ts.
 *
 *   node --expose-gc bench/peers/raw-peer.ts --role server
 *   node --expose-gc bench/peers/raw-peer.ts --role client --addr 127.0.0.1:port
 */
import { createServer, connect } from 'node:net'
import type { Server, Socket } from 'node:net'
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { intField, log, parseFlags, requireFlag, runPeer } from './peer-loop.ts'
import type { Command, Json } from './peer-loop.ts'
import { elapsedMs, encodeHeader, TransferReceiver, payloadBlock, RAW_MODE_ECHO, RAW_MODE_TRANSFER } from './wire.ts'

const SIDE = 'raw'
const flags = parseFlags(process.argv.slice(2))
const role = requireFlag(flags, 'role')
const chunkSize = Number(flags.get('chunk') ?? 65536)

let server: Server | undefined
let host = '127.0.0.1'
let port = 0
const open = new Set<Socket>()
const held: Socket[] = []
let openWaiter: (() => void) | undefined

async function start (): Promise<Json> {
  if (role === 'server') {
    server = createServer({ noDelay: true, allowHalfOpen: true }, serve)
    server.maxConnections = 100_000
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('no TCP address')
    return { side: SIDE, addrs: [`${address.address}:${address.port}`] }
  }
  const [h, p] = requireFlag(flags, 'addr').split(':')
  host = h
  port = Number(p)
  return { side: SIDE, addrs: [] }
}

function serve (socket: Socket): void {
  open.add(socket)
  openWaiter?.()
  socket.on('close', () => { open.delete(socket) })
  socket.on('error', (err) => { log(SIDE, 'server socket error:', err) })
  let mode = 0
  const transfer = new TransferReceiver()
  socket.on('data', (chunk: Buffer) => {
    if (mode === 0) {
      mode = chunk[0]
      chunk = chunk.subarray(1)
    }
    if (mode === RAW_MODE_ECHO) {
      if (chunk.length > 0 && !socket.write(chunk)) {
        socket.pause()
        socket.once('drain', () => socket.resume())
      }
    } else {
      transfer.feed(chunk)
    }
  })
  socket.on('end', () => {
    if (mode === RAW_MODE_TRANSFER) {
      try {
        transfer.finish()
      } catch (err) {
        log(SIDE, 'transfer failed:', err)
        socket.destroy()
        return
      }
      sendBytes(socket, transfer.downloadBytes).then(() => socket.end(), (err) => { socket.destroy(err) })
    } else {
      socket.end()
    }
  })
}

async function sendBytes (socket: Socket, total: number): Promise<void> {
  const block = payloadBlock(chunkSize)
  for (let sent = 0; sent < total; sent += block.length) {
    const chunk = total - sent >= block.length ? block : block.subarray(0, total - sent)
    if (!socket.write(chunk)) await once(socket, 'drain')
  }
}

async function dial (): Promise<Socket> {
  const socket = connect({ host, port, noDelay: true, allowHalfOpen: true })
  await once(socket, 'connect')
  return socket
}

/** Reads until the remote's end-of-stream; resolves with the byte count. */
function drainSocket (socket: Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    let received = 0
    socket.on('data', (chunk: Buffer) => { received += chunk.length })
    socket.once('end', () => { resolve(received) })
    socket.once('error', reject)
  })
}

async function transfer (up: number, down: number): Promise<number> {
  const started = process.hrtime.bigint()
  const socket = await dial()
  const reading = drainSocket(socket)
  socket.write(new Uint8Array([RAW_MODE_TRANSFER]))
  socket.write(encodeHeader(up, down))
  await sendBytes(socket, up)
  socket.end()
  const received = await reading
  if (received !== down) throw new Error(`received ${received} bytes, expected ${down}`)
  const ms = elapsedMs(started)
  socket.destroy()
  return ms
}

function readExactly (socket: Socket, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = 0
    const onData = (chunk: Buffer): void => {
      received += chunk.length
      if (received >= n) { cleanup(); resolve() }
    }
    const onEnd = (): void => { cleanup(); reject(new Error(`connection ended after ${received} of ${n} bytes`)) }
    const cleanup = (): void => { socket.off('data', onData); socket.off('end', onEnd); socket.off('error', reject) }
    socket.on('data', onData)
    socket.on('end', onEnd)
    socket.on('error', reject)
  })
}

/** ChaCha20-Poly1305 over `total` bytes in `frame`-byte pieces; results in Gbit/s. */
function cipherBench (total: number, frame: number): Json {
  const keyBytes = randomBytes(32)
  const key = createSecretKey(keyBytes)
  const plaintext = randomBytes(frame)
  const frames = Math.max(1, Math.floor(total / frame))
  const bytes = frames * frame
  const gbps = (ms: number): number => bytes * 8 / ms / 1e6
  const nonce = Buffer.alloc(12)

  // bulk: one AEAD message over everything (the cipher's own speed, no per-frame setup)
  let started = process.hrtime.bigint()
  const bulkSeal = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
  for (let i = 0; i < frames; i++) bulkSeal.update(plaintext)
  bulkSeal.final()
  const bulkSealMs = elapsedMs(started)
  // decryption computes the same MAC while it runs; the tag cannot match here (we decrypt
  // bytes that were never sealed this way) and is checked only to finish the message
  started = process.hrtime.bigint()
  const bulkOpen = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
  bulkOpen.setAuthTag(Buffer.alloc(16))
  for (let i = 0; i < frames; i++) bulkOpen.update(plaintext)
  try { bulkOpen.final() } catch { /* expected: wrong tag */ }
  const bulkOpenMs = elapsedMs(started)

  // per frame, as Noise must: one cipher object, nonce and output buffer per frame
  started = process.hrtime.bigint()
  let sealed = Buffer.alloc(0)
  for (let i = 0; i < frames; i++) {
    nonce.writeUInt32LE(i, 4)
    const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
    const out = Buffer.allocUnsafe(frame + 16)
    const ciphertext = cipher.update(plaintext)
    cipher.final()
    out.set(ciphertext, 0)
    out.set(cipher.getAuthTag(), frame)
    sealed = out
  }
  const frameSealMs = elapsedMs(started)
  const lastNonce = Buffer.from(nonce)
  started = process.hrtime.bigint()
  for (let i = 0; i < frames; i++) {
    const decipher = createDecipheriv('chacha20-poly1305', key, lastNonce, { authTagLength: 16 })
    decipher.setAuthTag(sealed.subarray(frame))
    decipher.update(sealed.subarray(0, frame))
    decipher.final()
  }
  const frameOpenMs = elapsedMs(started)
  return {
    bytes,
    bulkSealGbps: gbps(bulkSealMs),
    bulkOpenGbps: gbps(bulkOpenMs),
    frameSealGbps: gbps(frameSealMs),
    frameOpenGbps: gbps(frameOpenMs)
  }
}

const handlers = {
  async throughput (req: Command): Promise<Json> {
    const bytes = intField(req, 'bytes')
    const upload = req.direction === 'upload'
    return { ms: await transfer(upload ? bytes : 0, upload ? 0 : bytes) }
  },

  async concurrent (req: Command): Promise<Json> {
    const streams = intField(req, 'streams')
    const bytes = intField(req, 'bytes')
    const started = process.hrtime.bigint()
    await Promise.all(Array.from({ length: streams }, async () => await transfer(bytes, 0)))
    return { ms: elapsedMs(started) }
  },

  /** TCP connect, then a 32-byte echo round trip (what a ping costs without libp2p). */
  async setup (req: Command): Promise<Json> {
    const count = intField(req, 'count')
    const payload = randomBytes(32)
    const dialMs: number[] = []
    const pingMs: number[] = []
    const totalMs: number[] = []
    for (let i = 0; i < count; i++) {
      const started = process.hrtime.bigint()
      const socket = await dial()
      const dialed = elapsedMs(started)
      const echoed = readExactly(socket, 32)
      socket.write(Buffer.concat([Buffer.from([RAW_MODE_ECHO]), payload]))
      await echoed
      const total = elapsedMs(started)
      dialMs.push(dialed)
      pingMs.push(total - dialed)
      totalMs.push(total)
      socket.end()
      await once(socket, 'close')
    }
    return { dialMs, pingMs, totalMs, identifyMs: [] }
  },

  /** 1-byte round trips on one open connection: the floor under any stream open + echo. */
  async streams (req: Command): Promise<Json> {
    const count = intField(req, 'count')
    const socket = await dial()
    socket.write(new Uint8Array([RAW_MODE_ECHO]))
    const byte = new Uint8Array([42])
    const ms: number[] = []
    for (let i = 0; i < count; i++) {
      const started = process.hrtime.bigint()
      const echoed = readExactly(socket, 1)
      socket.write(byte)
      await echoed
      ms.push(elapsedMs(started))
    }
    socket.destroy()
    return { ms }
  },

  async connectMany (req: Command): Promise<Json> {
    const count = intField(req, 'count')
    const started = process.hrtime.bigint()
    for (let i = 0; i < count; i++) {
      const socket = await dial()
      socket.on('error', () => {})
      held.push(socket)
    }
    return { ms: elapsedMs(started), connections: held.length }
  },

  async waitConnections (req: Command): Promise<Json> {
    const count = intField(req, 'count')
    if (open.size < count) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { openWaiter = undefined; reject(new Error(`only ${open.size} of ${count} connections after 60 s`)) }, 60_000)
        openWaiter = () => {
          if (open.size < count) return
          clearTimeout(timer)
          openWaiter = undefined
          resolve()
        }
      })
    }
    return { connections: open.size }
  },

  async cipher (req: Command): Promise<Json> {
    return cipherBench(intField(req, 'bytes'), intField(req, 'frame'))
  }
}

void runPeer(SIDE, start, handlers, async () => {
  for (const socket of held) socket.destroy()
  for (const socket of open) socket.destroy()
  server?.close()
})
