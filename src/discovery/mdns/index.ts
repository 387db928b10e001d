/**
 * mDNS peer discovery (discovery/mdns.md): finds libp2p peers on the local network with no
 * configuration. `services: { mdns: mdns() }`; Node.js only (browsers have no UDP).
 *
 * - Queries `_p2p._udp.local PTR` at start and then every `interval` ms plus a random jitter (so
 *   nodes started together do not query in lockstep), on IPv4 and IPv6.
 * - Answers queries (its own too, so others discover it passively) with its LAN addresses only
 *   (private and link-local; loopback with `includeLoopback`): a public address has no business
 *   on the LAN, and a LAN peer is never told to dial out of it. Answers are rate-limited to one
 *   per second per socket (RFC 6762 section 6), so a flood of queries cannot make it flood the LAN.
 * - Each peer found (not ourselves) goes into the peer store with its LAN addresses and a TTL
 *   (the record's, at most `maxAddressTtl`), and is announced as `peer:discovery`; the connection
 *   manager dials it while below `minConnections`.
 * - Received messages are hostile input: bounded decoding (./records.ts, ../../dns/message.ts);
 *   a bad one is counted, logged and dropped.
 * - Off under the offline switch (util/offline.ts) unless `force` is set: the node's defaults
 *   include it, tests must not multicast on the machine's own interfaces.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import { CODE_IP4, CODE_IP6, CODE_P2P } from '@multiformats/multiaddr'
import type { NodeComponents, Startable } from '../../interface/components.ts'
import type { Logger } from '../../interface/logger.ts'
import { peerIdFromString } from '../../peer/peer-id.ts'
import { isOffline } from '../../util/offline.ts'
import { isRelayed, peerIdStringOf, reachabilityOf } from '../../util/multiaddr.ts'
import { unrefTimeout } from '../../util/timers.ts'
import type { TimerHandle } from '../../util/timers.ts'
import { encodeQuery, encodeResponse, randomPeerName, readMessage, SERVICE_TAG } from './records.ts'
import type { MdnsPeer } from './records.ts'
import { openMdnsSockets } from './socket.node.ts'
import type { MdnsSockets } from './socket.node.ts'

export interface MdnsOptions {
  /** Time between queries in ms (default 10 s), plus up to `jitter` of it at random. */
  interval?: number
  /** Fraction of `interval` added at random to each wait (default 0.2). */
  jitter?: number
  /** TTL of our records in seconds (default 120, RFC 6762's for host-independent records). */
  ttl?: number
  /** Longest time a discovered address stays in the peer store, in ms (default 10 min). */
  maxAddressTtl?: number
  /** Answer other peers' queries (default true). */
  broadcast?: boolean
  ipv4?: boolean
  ipv6?: boolean
  /** Also advertise and accept loopback addresses (peers on this host only; default false). */
  includeLoopback?: boolean
  /** Service name (default `_p2p._udp.local`). */
  serviceTag?: string
  /** UDP port (default 5353; tests may use another). */
  port?: number
  /** Run even when the offline switch is on (tests inside network namespaces). */
  force?: boolean
}

export type MdnsComponents = Pick<NodeComponents, 'peerId' | 'events' | 'peerStore' | 'addressManager' | 'logger'>

/** Minimum time between two multicast answers of ours (RFC 6762 section 6). */
const ANSWER_SPACING_MS = 1_000

export class MdnsDiscovery implements Startable {
  readonly serviceCapabilities: readonly string[] = ['@libp2p/peer-discovery']
  readonly #components: MdnsComponents
  readonly #log: Logger
  readonly #options: Required<Omit<MdnsOptions, 'port'>> & { port?: number }
  readonly #peerName = randomPeerName()
  #sockets: MdnsSockets | undefined
  #queryTimer: TimerHandle | undefined
  #answerTimer: TimerHandle | undefined
  #lastAnswerAt = -Infinity
  #running = false
  /** Messages dropped as malformed or over a limit (for tests and metrics). */
  invalidMessages = 0

  constructor (components: MdnsComponents, options: MdnsOptions = {}) {
    this.#components = components
    this.#log = components.logger('mdns')
    this.#options = {
      interval: options.interval ?? 10_000,
      jitter: options.jitter ?? 0.2,
      ttl: options.ttl ?? 120,
      maxAddressTtl: options.maxAddressTtl ?? 10 * 60_000,
      broadcast: options.broadcast ?? true,
      ipv4: options.ipv4 ?? true,
      ipv6: options.ipv6 ?? true,
      includeLoopback: options.includeLoopback ?? false,
      serviceTag: options.serviceTag ?? SERVICE_TAG,
      force: options.force ?? false,
      port: options.port
    }
  }

  /** Whether sockets are open (false when offline or when they could not be opened). */
  get active (): boolean { return this.#sockets !== undefined }

  async start (): Promise<void> {
    if (this.#running) return
    this.#running = true
    if (!this.#options.force && isOffline()) {
      this.#log('offline switch on: mDNS stays off')
      return
    }
    try {
      this.#sockets = await openMdnsSockets({
        ipv4: this.#options.ipv4,
        ipv6: this.#options.ipv6,
        port: this.#options.port,
        onMessage: (bytes, from) => { this.#onMessage(bytes, from) },
        onError: (err) => { this.#log('mDNS socket error: %s', err.message) }
      })
      this.#log('mDNS on %o as %s', this.#sockets.joined, this.#peerName)
    } catch (err) {
      // another program holding 5353 exclusively, no interface: the node runs without mDNS
      this.#log('mDNS could not start: %s', (err as Error).message)
    }
  }

  afterStart (): void {
    if (this.#sockets === undefined) return
    // RFC 6762 5.2: the first query after a random 20-120 ms, so hosts booting together spread out
    this.#scheduleQuery(20 + Math.random() * 100)
  }

  stop (): void {
    this.#running = false
    if (this.#queryTimer !== undefined) clearTimeout(this.#queryTimer)
    if (this.#answerTimer !== undefined) clearTimeout(this.#answerTimer)
    this.#queryTimer = undefined
    this.#answerTimer = undefined
    this.#sockets?.close()
    this.#sockets = undefined
  }

  #scheduleQuery (delay: number): void {
    this.#queryTimer = unrefTimeout(() => {
      this.#queryTimer = undefined
      if (!this.#running || this.#sockets === undefined) return
      this.#sockets.send(encodeQuery(this.#options.serviceTag)).catch((err: Error) => { this.#log('query failed: %s', err.message) })
      this.#scheduleQuery(this.#options.interval * (1 + Math.random() * this.#options.jitter))
    }, delay)
  }

  #onMessage (bytes: Uint8Array, from: string): void {
    let message
    try {
      message = readMessage(bytes, this.#options.serviceTag)
    } catch (err) {
      this.invalidMessages++
      this.#log('dropped a malformed mDNS message from %s: %s', from, (err as Error).message)
      return
    }
    if (message.kind === 'query') this.#answerSoon()
    else if (message.kind === 'response') for (const peer of message.peers) this.#found(peer)
  }

  /** One answer per ANSWER_SPACING_MS at most; queries in between share the next one. */
  #answerSoon (): void {
    if (!this.#options.broadcast || this.#answerTimer !== undefined) return
    const wait = Math.max(0, this.#lastAnswerAt + ANSWER_SPACING_MS - Date.now())
    this.#answerTimer = unrefTimeout(() => {
      this.#answerTimer = undefined
      if (!this.#running || this.#sockets === undefined) return
      this.#lastAnswerAt = Date.now()
      const response = encodeResponse({ peerName: this.#peerName, addrs: this.#advertised(), ttl: this.#options.ttl, serviceTag: this.#options.serviceTag })
      if (response === undefined) return
      this.#sockets.send(response).catch((err: Error) => { this.#log('answer failed: %s', err.message) })
    }, wait)
  }

  /** Our LAN addresses, each ending in /p2p/<us>. */
  #advertised (): Multiaddr[] {
    const self = this.#components.peerId.toString()
    const out: Multiaddr[] = []
    for (const addr of this.#components.addressManager.getAddresses()) {
      if (!this.#isLanAddress(addr)) continue
      out.push(peerIdStringOf(addr) === undefined ? addr.encapsulate(`/p2p/${self}`) : addr)
    }
    return out
  }

  #isLanAddress (addr: Multiaddr): boolean {
    const components = addr.getComponents()
    const first = components[0]?.code
    if ((first !== CODE_IP4 && first !== CODE_IP6) || isRelayed(addr)) return false
    // a /p2p in the middle would be a relay or a stranger's address
    if (components.slice(0, -1).some(c => c.code === CODE_P2P)) return false
    const reach = reachabilityOf(addr)
    return reach === 'private' || reach === 'link-local' || (reach === 'loopback' && this.#options.includeLoopback)
  }

  #found (peer: MdnsPeer): void {
    if (peer.id === this.#components.peerId.toString()) return
    const addrs = peer.addrs.filter(a => this.#isLanAddress(a))
    if (addrs.length === 0) return
    let id
    try {
      id = peerIdFromString(peer.id)
    } catch {
      this.invalidMessages++
      return
    }
    const addressTtl = Math.min(Math.max(peer.ttl, 1) * 1000, this.#options.maxAddressTtl)
    this.#components.peerStore.merge(id, { multiaddrs: addrs, addressTtl }).then(() => {
      this.#components.events.safeDispatch('peer:discovery', { id, multiaddrs: addrs })
    }, (err: Error) => { this.#log('could not record %s: %s', peer.id, err.message) })
  }
}

/** Service factory: `services: { mdns: mdns() }`. */
export function mdns (options: MdnsOptions = {}): (components: MdnsComponents) => MdnsDiscovery {
  return (components) => new MdnsDiscovery(components, options)
}
