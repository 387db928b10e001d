/**
 * The daemon's local sockets: the control listener and the sockets it dials back to a client's
 * stream handler, named by multiaddrs as in p2pd (`/unix/<path>` or `/ip4|ip6/<ip>/tcp/<port>`).
 * Every socket is wrapped as a ByteStream (the TCP transport's TcpConnection works over any
 * net.Socket) with half-open allowed, so a half-close crosses the local socket.
 *
 * Unlike p2pd, a unix socket file left behind by a crashed daemon does not block the next
 * start: if nothing accepts on it, it is removed before listening.
 */
import { connect, createServer, type Server, type Socket } from 'node:net'
import { lstat, unlink } from 'node:fs/promises'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { TcpConnection } from '../transport/tcp/connection.ts'
import { InvalidMultiaddrError } from '../util/errors.ts'
import type { ByteStream } from '../interface/stream.ts'
import { Deadline } from '../util/deadline.ts'

export type LocalAddress = { kind: 'unix', path: string } | { kind: 'tcp', host: string, port: number }

const DIAL_TIMEOUT_MS = 10_000

/**
 * A control or handler address as p2pd's users write it. go-multiaddr's `/unix` takes the rest
 * of the string as the path (`/unix/tmp/p2pd.sock`, p2pd's default); the JS multiaddr wants the
 * path percent-encoded in one component (`/unix/%2Ftmp%2Fp2pd.sock`). Both forms are taken.
 */
export function parseDaemonMultiaddr (text: string): Multiaddr {
  if (text.startsWith('/unix/') && !text.startsWith('/unix/%2F')) return multiaddr(`/unix/${encodeURIComponent(text.slice('/unix'.length))}`)
  return multiaddr(text)
}

/** The address as p2pd prints it: a unix socket as `/unix/PATH` with its slashes, as Go does. */
export function formatDaemonMultiaddr (addr: Multiaddr): string {
  const local = parseLocalAddress(addr)
  return local.kind === 'unix' ? `/unix${local.path.startsWith('/') ? '' : '/'}${local.path}` : addr.toString()
}

export function parseLocalAddress (addr: Multiaddr): LocalAddress {
  const parts = addr.getComponents()
  if (parts.length === 1 && parts[0].name === 'unix' && parts[0].value !== undefined) {
    // `/unix/` is followed by an absolute path in every client's convention; Python's
    // multiaddr writes it into the binary form without its leading slash
    const path = decodeURIComponent(parts[0].value)
    return { kind: 'unix', path: path.startsWith('/') ? path : `/${path}` }
  }
  if (parts.length === 2 && (parts[0].name === 'ip4' || parts[0].name === 'ip6') && parts[1].name === 'tcp' && parts[0].value !== undefined) {
    return { kind: 'tcp', host: parts[0].value, port: Number(parts[1].value) }
  }
  throw new InvalidMultiaddrError(`${addr.toString()} is not a local socket address (/unix/PATH or /ip4|ip6/IP/tcp/PORT)`)
}

export function wrapSocket (socket: Socket, remoteAddr: Multiaddr, direction: 'inbound' | 'outbound'): ByteStream {
  return new TcpConnection(socket, direction, { remoteAddr })
}

/** Dials a client's local socket (a stream handler's address). */
export async function dialLocal (addr: Multiaddr, signal?: AbortSignal): Promise<ByteStream> {
  const local = parseLocalAddress(addr)
  // The signal given to net.connect destroys the socket whenever it aborts, for the socket's
  // whole life: a deadline cleared once connected bounds the dial and nothing after it.
  const deadline = new Deadline(DIAL_TIMEOUT_MS, signal, `dialing ${addr.toString()} timed out`)
  const socket = local.kind === 'unix'
    ? connect({ path: local.path, allowHalfOpen: true, signal: deadline.signal })
    : connect({ host: local.host, port: local.port, allowHalfOpen: true, signal: deadline.signal })
  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => { socket.off('connect', onConnect); reject(err) }
      const onConnect = (): void => { socket.off('error', onError); resolve() }
      socket.once('error', onError)
      socket.once('connect', onConnect)
    })
  } finally {
    deadline.clear()
  }
  socket.setNoDelay?.(true)
  return wrapSocket(socket, addr, 'outbound')
}

/** True when something accepts connections on the unix socket at `path`. */
async function unixSocketAlive (path: string): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const probe = connect({ path })
    probe.once('connect', () => { probe.destroy(); resolve(true) })
    probe.once('error', () => { resolve(false) })
  })
}

/** Removes a stale unix socket file; refuses to touch a live socket or a non-socket file. */
async function clearStaleUnixSocket (path: string): Promise<void> {
  let stat
  try {
    stat = await lstat(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  if (!stat.isSocket()) throw new Error(`${path} exists and is not a socket`)
  if (await unixSocketAlive(path)) throw new Error(`another daemon is listening on ${path}`)
  await unlink(path)
}

/**
 * Listens on `addr` and resolves with the address actually bound (the real port for port 0).
 * `onSocket` receives every accepted socket, half-open allowed.
 */
export async function listenLocal (addr: Multiaddr, onSocket: (socket: Socket) => void): Promise<{ server: Server, addr: Multiaddr }> {
  const local = parseLocalAddress(addr)
  const server = createServer({ allowHalfOpen: true, noDelay: true }, onSocket)
  if (local.kind === 'unix') await clearStaleUnixSocket(local.path)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    const done = (): void => { server.off('error', reject); resolve() }
    if (local.kind === 'unix') server.listen({ path: local.path }, done)
    else server.listen({ host: local.host, port: local.port }, done)
  })
  if (local.kind === 'unix') return { server, addr }
  const bound = server.address()
  const port = typeof bound === 'object' && bound !== null ? bound.port : local.port
  return { server, addr: multiaddr(`/${local.host.includes(':') ? 'ip6' : 'ip4'}/${local.host}/tcp/${port}`) }
}
