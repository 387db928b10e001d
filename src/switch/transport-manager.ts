/**
 * The transport manager: picks the transport for each address, owns the listeners, and hands
 * every accepted raw connection to the connection manager.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from '../interface/common.ts'
import type { Listener, RawConnection, Transport, TransportDialOptions } from '../interface/transport.ts'
import { InvalidMultiaddrError } from '../util/errors.ts'
import { logger } from '../util/logger.ts'

const log = logger('transport-manager')

export interface TransportManagerInit {
  transports: Transport[]
  /** Every raw connection a listener accepts. */
  onConnection(conn: RawConnection): void
  /** The set of bound addresses changed (a listener started or stopped). */
  onListenersChange?(): void
}

export class TransportManager {
  readonly transports: readonly Transport[]
  readonly #init: TransportManagerInit
  #listeners: Array<{ transport: Transport, listener: Listener }> = []

  constructor (init: TransportManagerInit) {
    this.#init = init
    this.transports = [...init.transports]
  }

  /** The first transport able to dial `addr`, if any. */
  transportForDial (addr: Multiaddr): Transport | undefined {
    return this.transports.find(t => t.dialFilter([addr]).length > 0)
  }

  async dial (addr: Multiaddr, options?: TransportDialOptions): Promise<RawConnection> {
    const transport = this.transportForDial(addr)
    if (transport === undefined) throw new InvalidMultiaddrError(`no transport can dial ${addr.toString()}`)
    return await transport.dial(addr, options)
  }

  /**
   * Starts a listener for each address on the first transport that accepts it. An address no
   * transport can listen on is an error: a node silently not listening is worse than no node.
   */
  async listen (addrs: Multiaddr[]): Promise<void> {
    const unsupported = addrs.filter(a => !this.transports.some(t => t.listenFilter([a]).length > 0))
    if (unsupported.length > 0) throw new InvalidMultiaddrError(`no transport can listen on ${unsupported.map(a => a.toString()).join(', ')}`)
    for (const addr of addrs) {
      const transport = this.transports.find(t => t.listenFilter([addr]).length > 0)
      if (transport === undefined) continue
      const listener = transport.createListener({
        onConnection: conn => { this.#init.onConnection(conn) },
        onClose: err => {
          log.error('%s listener on %s stopped: %s', transport.name, addr, err)
          this.#listeners = this.#listeners.filter(l => l.listener !== listener)
          this.#init.onListenersChange?.()
        }
      })
      await listener.listen(addr)
      this.#listeners.push({ transport, listener })
      log('%s listening on %s', transport.name, listener.getAddrs().map(String).join(', '))
    }
    if (addrs.length > 0) this.#init.onListenersChange?.()
  }

  /** The bound addresses of every listener. */
  getAddrs (): Multiaddr[] {
    return this.#listeners.flatMap(l => l.listener.getAddrs())
  }

  async close (): Promise<void> {
    const listeners = this.#listeners
    this.#listeners = []
    await Promise.allSettled(listeners.map(async l => { await l.listener.close() }))
    if (listeners.length > 0) this.#init.onListenersChange?.()
  }
}
