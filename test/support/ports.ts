/**
 * A TCP port on 127.0.0.1 that nothing listens on: bound to learn a free one, then closed. For
 * an address that must refuse a dial (a closed port) or one a child process will listen on.
 * Another process may take it in between; tests use it where that would only fail loudly.
 */
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'

export async function unusedTcpPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve) })
  const { port } = server.address() as AddressInfo
  await new Promise<void>(resolve => { server.close(() => { resolve() }) })
  return port
}
