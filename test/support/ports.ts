/**
 * Loopback TCP ports for tests: one nothing listens on, and one that forwards to another (a
 * router's port mapping, played on loopback).
 */
import { connect, createServer } from 'node:net'
import type { AddressInfo } from 'node:net'

/**
 * A TCP port on 127.0.0.1 that nothing listens on: bound to learn a free one, then closed. For
 * an address that must refuse a dial (a closed port) or one a child process will listen on.
 * Another process may take it in between; tests use it where that would only fail loudly.
 */
export async function unusedTcpPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve) })
  const { port } = server.address() as AddressInfo
  await new Promise<void>(resolve => { server.close(() => { resolve() }) })
  return port
}

/**
 * A new TCP port on `host` (e.g. 127.0.0.2) whose every connection is piped to
 * 127.0.0.1:`toPort`: what a NAT's or UPnP router's port mapping does for a listener behind
 * it. An error on either side destroys the other. `close()` stops accepting.
 */
export async function forwardTcpPort (host: string, toPort: number): Promise<{ port: number, close(): void }> {
  const forwarder = createServer(socket => {
    const inner = connect(toPort, '127.0.0.1')
    socket.pipe(inner).pipe(socket)
    socket.on('error', () => { inner.destroy() })
    inner.on('error', () => { socket.destroy() })
  })
  await new Promise<void>((resolve, reject) => { forwarder.once('error', reject); forwarder.listen(0, host, resolve) })
  return { port: (forwarder.address() as AddressInfo).port, close: () => { forwarder.close() } }
}
