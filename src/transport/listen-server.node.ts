/**
 * Binds a node:net (or node:http) server and turns the bind outcome into a promise: resolves
 * once it listens, rejects with a typed ListenError (EADDRINUSE, EACCES, ...) otherwise. Shared
 * by the TCP and WebSockets listeners so both report bind failures the same way.
 */
import type { ListenOptions, Server } from 'node:net'
import type { Multiaddr } from '@multiformats/multiaddr'
import { ListenError } from '../util/errors.ts'

export async function listenServer (server: Server, addr: Multiaddr, options: ListenOptions): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.removeListener('listening', onListening)
      reject(new ListenError(`cannot listen on ${addr.toString()}: ${err.code ?? err.message}`, { cause: err }))
    }
    const onListening = (): void => {
      server.removeListener('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(options)
  })
}
