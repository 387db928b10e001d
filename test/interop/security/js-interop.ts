/**
 * Helpers for in-process wire checks against js-libp2p modules (devDependencies): a loopback
 * TCP socket pair with one end wrapped as our TcpConnection and the other as a js-libp2p
 * MultiaddrConnection. `js` is undefined when the packages are missing (tests then skip).
 */
import { createServer, connect, type Socket } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { TcpConnection } from '../../../src/transport/tcp/connection.ts'

export let js: any
try {
  const tcpDir = import.meta.resolve('@libp2p/tcp').replace(/index\.js$/, '')
  js = {
    noise: await import('@chainsafe/libp2p-noise'),
    crypto: await import('@libp2p/crypto/keys'),
    peerId: await import('@libp2p/peer-id'),
    logger: await import('@libp2p/logger'),
    mss: await import('@libp2p/multistream-select'),
    // Not in the package's exports map: load the file directly.
    socketToConn: await import(tcpDir + 'socket-to-conn.js')
  }
} catch {
  js = undefined
}

/**
 * Our end keeps half-open sockets (we half-close); the js end does not, like js-libp2p's TCP
 * transport, which treats the remote's FIN as the end of the whole connection.
 */
export async function socketPair (jsSide: 'dialer' | 'listener'): Promise<[Socket, Socket]> {
  const server = createServer({ allowHalfOpen: jsSide !== 'listener' })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const accepted = new Promise<Socket>(resolve => server.once('connection', resolve))
  const dialed = connect({ port, host: '127.0.0.1', allowHalfOpen: jsSide !== 'dialer' })
  await new Promise<void>(resolve => dialed.once('connect', resolve))
  const inbound = await accepted
  server.close()
  return [dialed, inbound]
}

export async function jsReadAll (stream: AsyncIterable<any>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of stream) chunks.push(chunk instanceof Uint8Array ? chunk : chunk.subarray())
  return Buffer.concat(chunks)
}

export function jsConn (socket: Socket, direction: 'inbound' | 'outbound'): any {
  return js.socketToConn.toMultiaddrConnection({
    socket,
    direction,
    remoteAddr: multiaddr(`/ip4/127.0.0.1/tcp/${socket.remotePort}`),
    log: js.logger.defaultLogger().forComponent('test')
  })
}

export function ourConn (socket: Socket, direction: 'inbound' | 'outbound'): TcpConnection {
  return new TcpConnection(socket, direction, { remoteAddr: multiaddr(`/ip4/127.0.0.1/tcp/${socket.remotePort}`) })
}

