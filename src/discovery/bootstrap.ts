/**
 * Bootstrap: keeps the node connected to a fixed list of peers. Each peer is dialed once the
 * node has started and redialed whenever its connection drops or a dial fails, with
 * exponential backoff (initial delay doubling up to a cap, reset after a successful dial).
 *
 * Each bootstrap peer whose id is known is announced as `peer:discovery` at start.
 * Addresses ending in /p2p/<id> are grouped per peer and dialed together; an address without
 * a peer id is dialed as is, and the peer id learned from the connection is used to notice
 * when that peer disconnects.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Libp2pEvents } from '../interface/events.ts'
import type { NodeComponents, Startable } from '../interface/components.ts'
import type { PeerId } from '../interface/peer-id.ts'
import type { Logger } from '../interface/logger.ts'
import { peerIdFromString } from '../peer/peer-id.ts'
import { InvalidMultiaddrError, ServiceStoppedError } from '../util/errors.ts'
import { peerIdStringOf } from '../util/multiaddr.ts'
import { withDeadline } from '../util/deadline.ts'
import { unrefTimeout } from '../util/timers.ts'


export interface BootstrapOptions {
  /** Multiaddrs of the bootstrap peers, ideally ending in /p2p/<peer id>. */
  list: Array<string | Multiaddr>
  /** Per-dial budget in ms (default 10 s). */
  timeout?: number
  /** First retry delay in ms (default 1 s); doubles up to `maxBackoff`. */
  initialBackoff?: number
  /** Longest retry delay in ms (default 60 s). */
  maxBackoff?: number
  /** Tag value given to bootstrap peers in the peer store (default 50), so they are kept. */
  tagValue?: number
  /**
   * Called once when every bootstrap peer has failed (offline, DNS failing), with the last
   * error; again only after one connected in between. Retries go on regardless, with backoff.
   * The CLI prints it as its one log line about it.
   */
  onUnreachable?: (error: Error) => void
}

export type BootstrapComponents = Pick<NodeComponents, 'connectionManager' | 'events' | 'peerStore' | 'logger'>

interface BootstrapTarget {
  /** Known up front from /p2p, or learned from the first connection. */
  peerId?: PeerId
  addrs: Multiaddr[]
  backoff: number
  timer?: ReturnType<typeof setTimeout>
  dialing: boolean
  /** The last dial failed (cleared when it connects). */
  failing: boolean
}

export class Bootstrap implements Startable {
  readonly serviceCapabilities: readonly string[] = ['@libp2p/peer-discovery']
  readonly #components: BootstrapComponents
  readonly #log: Logger
  readonly #targets: BootstrapTarget[]
  readonly #timeout: number
  readonly #initialBackoff: number
  readonly #maxBackoff: number
  readonly #tagValue: number
  readonly #onUnreachable?: (error: Error) => void
  #reportedUnreachable = false
  #running = false
  #shutdown = new AbortController()

  constructor (components: BootstrapComponents, options: BootstrapOptions) {
    this.#components = components
    this.#log = components.logger('bootstrap')
    this.#timeout = options.timeout ?? 10_000
    this.#initialBackoff = options.initialBackoff ?? 1000
    this.#maxBackoff = options.maxBackoff ?? 60_000
    this.#tagValue = options.tagValue ?? 50
    this.#onUnreachable = options.onUnreachable
    this.#targets = groupByPeer(options.list.map(toMultiaddr)).map(g => ({ ...g, backoff: this.#initialBackoff, dialing: false, failing: false }))
  }

  /** The bootstrap peers whose ids are known so far. */
  get peers (): PeerId[] {
    return this.#targets.flatMap(t => t.peerId !== undefined ? [t.peerId] : [])
  }

  async start (): Promise<void> {
    this.#running = true
    this.#shutdown = new AbortController()
    this.#components.events.addEventListener('peer:disconnect', this.#onDisconnect)
    for (const t of this.#targets) {
      if (t.peerId === undefined) continue
      const recorded = await this.#components.peerStore.merge(t.peerId, {
        multiaddrs: t.addrs,
        tags: { bootstrap: { value: this.#tagValue } }
      }).then(() => true, (err: Error) => { this.#log('could not record bootstrap peer %s: %s', t.peerId, err.message); return false })
      if (recorded) this.#components.events.safeDispatch('peer:discovery', { id: t.peerId, multiaddrs: t.addrs })
    }
  }

  afterStart (): void {
    for (const t of this.#targets) this.#schedule(t, 0)
  }

  stop (): void {
    this.#running = false
    this.#shutdown.abort(new ServiceStoppedError('bootstrap stopped'))
    this.#components.events.removeEventListener('peer:disconnect', this.#onDisconnect)
    for (const t of this.#targets) {
      if (t.timer !== undefined) clearTimeout(t.timer)
      t.timer = undefined
    }
  }

  readonly #onDisconnect = (evt: CustomEvent<Libp2pEvents['peer:disconnect']>): void => {
    const target = this.#targets.find(t => t.peerId?.equals(evt.detail) === true)
    if (target === undefined || !this.#running) return
    this.#log('bootstrap peer %s disconnected, redialing', evt.detail)
    this.#schedule(target, target.backoff)
  }

  #schedule (target: BootstrapTarget, delay: number): void {
    if (!this.#running || target.timer !== undefined || target.dialing) return
    target.timer = unrefTimeout(() => {
      target.timer = undefined
      void this.#dial(target)
    }, delay)
  }

  async #dial (target: BootstrapTarget): Promise<void> {
    if (!this.#running) return
    if (target.peerId !== undefined && this.#components.connectionManager.getConnections(target.peerId).length > 0) {
      target.backoff = this.#initialBackoff
      return
    }
    target.dialing = true
    try {
      const connection = await withDeadline(this.#timeout, this.#shutdown.signal, `dialing a bootstrap peer timed out after ${this.#timeout} ms`,
        async signal => await this.#components.connectionManager.openConnection(target.addrs, { signal }))
      target.peerId ??= connection.remotePeer
      target.backoff = this.#initialBackoff
      target.failing = false
      this.#reportedUnreachable = false
      this.#log('connected to bootstrap peer %s', connection.remotePeer)
    } catch (err) {
      const delay = target.backoff
      target.backoff = Math.min(target.backoff * 2, this.#maxBackoff)
      this.#log('dialing bootstrap peer %s failed (%s); retrying in %d ms', target.peerId ?? target.addrs[0], (err as Error).message, delay)
      target.dialing = false
      target.failing = true
      if (!this.#reportedUnreachable && this.#running && this.#targets.every(t => t.failing)) {
        this.#reportedUnreachable = true
        this.#onUnreachable?.(err as Error)
      }
      this.#schedule(target, delay)
      return
    }
    target.dialing = false
    // A disconnect that came while the dial was finishing found it still dialing: redial now.
    if (target.peerId !== undefined && this.#components.connectionManager.getConnections(target.peerId).length === 0) this.#schedule(target, target.backoff)
  }
}

function toMultiaddr (addr: string | Multiaddr): Multiaddr {
  if (typeof addr !== 'string') return addr
  try {
    return multiaddr(addr)
  } catch (err) {
    throw new InvalidMultiaddrError(`invalid bootstrap address ${addr}: ${(err as Error).message}`, { cause: err })
  }
}

/** The peer id at the end of `addr`, if any. */
export function peerIdOf (addr: Multiaddr): PeerId | undefined {
  const id = peerIdStringOf(addr)
  return id === undefined ? undefined : peerIdFromString(id)
}

function groupByPeer (addrs: Multiaddr[]): Array<{ peerId?: PeerId, addrs: Multiaddr[] }> {
  const groups: Array<{ peerId?: PeerId, addrs: Multiaddr[] }> = []
  for (const addr of addrs) {
    const peerId = peerIdOf(addr)
    const group = peerId !== undefined ? groups.find(g => g.peerId?.equals(peerId) === true) : undefined
    if (group !== undefined) group.addrs.push(addr)
    else groups.push({ peerId, addrs: [addr] })
  }
  return groups
}

/** Service factory: `services: { bootstrap: bootstrap({ list: [...] }) }`. */
export function bootstrap (options: BootstrapOptions): (components: BootstrapComponents) => Bootstrap {
  return (components) => new Bootstrap(components, options)
}
