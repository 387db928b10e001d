/**
 * An attacker's tools for tests on real sockets: TCP connections from a chosen loopback
 * address (127.0.0.2, 127.1.0.5, ... all reach 127.0.0.1's listeners on Linux), upgraded with
 * our own Noise and Yamux as a peer with a fresh identity would, either to a full connection
 * that serves nothing (it never answers identify, so the victim sees an unidentified peer) or
 * to the bare secured channel, on which a test writes hand-made Yamux frames.
 */
import { connect, type Socket } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import type { Connection } from '../../src/interface/connection.ts'
import type { ByteStream } from '../../src/interface/stream.ts'
import { generateKeyPair } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { noise } from '../../src/security/noise/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { select } from '../../src/mss/index.ts'
import { TcpConnection } from '../../src/transport/tcp/connection.ts'
import { DefaultRegistrar } from '../../src/switch/registrar.ts'
import { Upgrader } from '../../src/switch/upgrader.ts'
import { TypedEventEmitter } from '../../src/util/events.ts'
import type { Libp2pEvents } from '../../src/interface/events.ts'
import { memoryPeerStore } from './peer-store.ts'

/** A TCP socket to 127.0.0.1:`port` from `localAddress`; resolves once connected. */
export async function rawSocket (port: number, localAddress: string): Promise<Socket> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress, allowHalfOpen: true }, () => {
      socket.off('error', reject)
      socket.on('error', () => {})
      resolve(socket)
    })
    socket.once('error', reject)
  })
}

/** Resolves when `socket` has closed (at once if it already has). */
export async function socketClosed (socket: Socket): Promise<void> {
  if (socket.closed) return
  await new Promise<void>(resolve => { socket.once('close', () => { resolve() }) })
}

async function rawConnection (port: number, localAddress: string): Promise<TcpConnection> {
  const socket = await rawSocket(port, localAddress)
  return new TcpConnection(socket, 'outbound', {
    remoteAddr: multiaddr(`/ip4/127.0.0.1/tcp/${port}`),
    localAddr: multiaddr(`/ip4/${localAddress}/tcp/${socket.localPort ?? 0}`)
  })
}

/** A full connection (Noise + Yamux) from a new identity that handles no protocol at all. */
export async function idleConnection (port: number, localAddress: string): Promise<Connection> {
  const privateKey = await generateKeyPair('Ed25519')
  const events = new TypedEventEmitter<Libp2pEvents>()
  const registrar = new DefaultRegistrar({ events, peerStore: memoryPeerStore(peerIdFromPrivateKey(privateKey)), getConnections: () => [] })
  const upgrader = new Upgrader({
    connectionEncrypters: [noise()({ privateKey })],
    streamMuxers: [yamux()()],
    registrar,
    connectionCloseTimeout: 1000
  })
  const raw = await rawConnection(port, localAddress)
  return await upgrader.upgradeOutbound(raw)
}

/** A Noise channel from a new identity on which Yamux was agreed; the caller writes raw frames. */
export async function securedYamuxChannel (port: number, localAddress: string): Promise<ByteStream> {
  const privateKey = await generateKeyPair('Ed25519')
  const raw = await rawConnection(port, localAddress)
  await select(raw, ['/noise'])
  const secured = await noise()({ privateKey }).secureOutbound(raw)
  await select(secured.conn, ['/yamux/1.0.0'])
  return secured.conn
}

/** The `i`th of many attacker addresses: ten per /24, in 127.1.0.0/16 and up (never 127.0.0.1). */
export function attackerAddress (i: number): string {
  return `127.${1 + Math.floor(i / 2560)}.${Math.floor(i / 10) % 256}.${2 + (i % 10)}`
}

/**
 * Writes the next byte of `bytes` to every socket every `everyMs` (a peer that sends one byte
 * at a time, never finishing). `ticks(n)` resolves after the n-th round, so a test acts while
 * the trickle is under way instead of after a fixed sleep.
 */
export function trickle (sockets: Socket[], bytes: Uint8Array, everyMs: number): { ticks(n: number): Promise<void>, stop(): void } {
  let round = 0
  const waiters: Array<{ n: number, resolve(): void }> = []
  const timer = setInterval(() => {
    const b = bytes.subarray(round % bytes.length, round % bytes.length + 1)
    for (const s of sockets) if (!s.destroyed) s.write(b)
    round++
    for (const w of waiters.filter(w => w.n <= round)) { waiters.splice(waiters.indexOf(w), 1); w.resolve() }
  }, everyMs)
  return {
    ticks: async (n) => { if (round < n) await new Promise<void>(resolve => { waiters.push({ n, resolve }) }) },
    stop: () => { clearInterval(timer) }
  }
}
