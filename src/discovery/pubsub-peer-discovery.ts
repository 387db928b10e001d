/**
 * Pubsub peer discovery: peers announce themselves on a pubsub topic (default
 * `_peer-discovery._p2p._pubsub`, the one js-libp2p's @libp2p/pubsub-peer-discovery and go
 * applications use) and learn of each other from the announcements. Needs a pubsub service
 * (`services.pubsub`, gossipsub or floodsub) whose messages are signed, so an announcement is
 * known to come from the peer it names: one whose public key is not the message's author is
 * dropped.
 * `services: { pubsub: gossipsub(), discovery: pubsubPeerDiscovery() }`.
 *
 * Wire: `Peer{publicKey=1 (the key in libp2p's protobuf form), addrs=2 (repeated multiaddr
 * bytes)}`, bounded (1 KiB key, 64 addresses of 1 KiB); announced at start and every
 * `interval` ms unless `listenOnly`.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { NodeComponents, Startable } from '../interface/components.ts'
import type { Logger } from '../interface/logger.ts'
import { publicKeyFromProtobuf, publicKeyToProtobuf } from '../crypto/index.ts'
import { peerIdFromPublicKey } from '../peer/peer-id.ts'
import { InvalidMessageError } from '../util/errors.ts'
import { ProtobufReader, ProtobufWriter, pushBounded } from '../util/protobuf.ts'
import { unrefInterval } from '../util/timers.ts'
import { withoutPeerId } from '../util/multiaddr.ts'

export const PUBSUB_DISCOVERY_TOPIC = '_peer-discovery._p2p._pubsub'
const MAX_MESSAGE_SIZE = 80 * 1024
const MAX_KEY_LENGTH = 1024
const MAX_ADDRS = 64
const MAX_ADDR_LENGTH = 1024
/** Addresses learned this way live this long in the peer store unless announced again. */
const DEFAULT_ADDRESS_TTL = 10 * 60_000

export interface PubSubPeerDiscoveryOptions {
  /** Time between our announcements, in ms (default 10 s). */
  interval?: number
  /** Topics to announce on and listen to (default [PUBSUB_DISCOVERY_TOPIC]). */
  topics?: string[]
  /** Only listen, never announce (default false). */
  listenOnly?: boolean
  /** TTL of the addresses learned, in ms (default 10 min). */
  addressTtl?: number
}

/** What the service needs of a pubsub router. */
interface PubSubLike {
  subscribe(topic: string): void
  unsubscribe(topic: string): void
  publish(topic: string, data: Uint8Array): Promise<unknown>
  addEventListener(type: 'message', listener: (evt: CustomEvent<{ topic: string, data: Uint8Array, from?: { equals(other: unknown): boolean }, type?: string }>) => void): void
  removeEventListener(type: 'message', listener: (evt: CustomEvent<any>) => void): void
}

export type PubSubPeerDiscoveryComponents = Pick<NodeComponents, 'peerId' | 'privateKey' | 'addressManager' | 'peerStore' | 'events' | 'logger'> & { services: Record<string, unknown> }

export function encodeDiscoveryPeer (publicKey: Uint8Array, addrs: Uint8Array[]): Uint8Array {
  const w = new ProtobufWriter()
  w.bytes(1, publicKey)
  for (const a of addrs) w.bytes(2, a)
  return w.finish()
}

/** Throws InvalidMessageError on a malformed or oversized announcement. */
export function decodeDiscoveryPeer (bytes: Uint8Array): { publicKey: Uint8Array, addrs: Uint8Array[] } {
  if (bytes.length > MAX_MESSAGE_SIZE) throw new InvalidMessageError(`peer announcement of ${bytes.length} bytes exceeds ${MAX_MESSAGE_SIZE}`)
  const r = new ProtobufReader(bytes)
  let publicKey: Uint8Array | undefined
  const addrs: Uint8Array[] = []
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) publicKey = r.bytes(wire, MAX_KEY_LENGTH)
    else if (field === 2) pushBounded(addrs, r.bytes(wire, MAX_ADDR_LENGTH), MAX_ADDRS, 'addresses in a peer announcement')
    else r.skip(wire)
  }
  if (publicKey === undefined) throw new InvalidMessageError('peer announcement without a public key')
  return { publicKey, addrs }
}

export class PubSubPeerDiscovery implements Startable {
  readonly serviceCapabilities: readonly string[] = ['@libp2p/peer-discovery']
  readonly serviceDependencies: readonly string[] = ['@libp2p/pubsub']
  readonly #components: PubSubPeerDiscoveryComponents
  readonly #log: Logger
  readonly #interval: number
  readonly #topics: string[]
  readonly #listenOnly: boolean
  readonly #addressTtl: number
  #timer: ReturnType<typeof setInterval> | undefined
  /** Announcements dropped as malformed or forged (for tests and metrics). */
  invalidMessages = 0

  constructor (components: PubSubPeerDiscoveryComponents, options: PubSubPeerDiscoveryOptions = {}) {
    this.#components = components
    this.#log = components.logger('pubsub-peer-discovery')
    this.#interval = options.interval ?? 10_000
    this.#topics = options.topics !== undefined && options.topics.length > 0 ? options.topics : [PUBSUB_DISCOVERY_TOPIC]
    this.#listenOnly = options.listenOnly ?? false
    this.#addressTtl = options.addressTtl ?? DEFAULT_ADDRESS_TTL
  }

  get #pubsub (): PubSubLike {
    return this.#components.services.pubsub as PubSubLike
  }

  afterStart (): void {
    for (const topic of this.#topics) this.#pubsub.subscribe(topic)
    this.#pubsub.addEventListener('message', this.#onMessage)
    if (this.#listenOnly) return
    this.#announce()
    this.#timer = unrefInterval(() => { this.#announce() }, this.#interval)
  }

  stop (): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    this.#pubsub.removeEventListener('message', this.#onMessage)
  }

  #announce (): void {
    const addrs = this.#components.addressManager.getAddresses().map(a => withoutPeerId(a).bytes)
    const data = encodeDiscoveryPeer(publicKeyToProtobuf(this.#components.privateKey.publicKey), addrs)
    for (const topic of this.#topics) {
      // no subscriber yet is normal at start: the next round reaches those who joined since
      this.#pubsub.publish(topic, data).catch((err: Error) => { this.#log('announcing on %s failed: %s', topic, err.message) })
    }
  }

  readonly #onMessage = (evt: CustomEvent<{ topic: string, data: Uint8Array, from?: { equals(other: unknown): boolean }, type?: string }>): void => {
    const message = evt.detail
    if (!this.#topics.includes(message.topic)) return
    let peerId
    let addrs: Multiaddr[]
    try {
      const announced = decodeDiscoveryPeer(message.data)
      peerId = peerIdFromPublicKey(publicKeyFromProtobuf(announced.publicKey))
      addrs = announced.addrs.flatMap(bytes => {
        try { return [multiaddr(bytes)] } catch { return [] }
      })
    } catch (err) {
      this.invalidMessages++
      this.#log('dropped a malformed peer announcement: %s', (err as Error).message)
      return
    }
    // only the peer itself may announce itself (the pubsub signature names the author)
    if (message.from === undefined || !message.from.equals(peerId)) {
      this.invalidMessages++
      this.#log('dropped an announcement of %s not signed by it', peerId)
      return
    }
    if (peerId.equals(this.#components.peerId)) return
    this.#components.peerStore.merge(peerId, { multiaddrs: addrs, addressTtl: this.#addressTtl }).then(() => {
      this.#components.events.safeDispatch('peer:discovery', { id: peerId, multiaddrs: addrs })
    }, (err: Error) => { this.#log('could not record %s: %s', peerId, err.message) })
  }
}

/** Service factory: `services: { pubsub: gossipsub(), discovery: pubsubPeerDiscovery() }`. */
export function pubsubPeerDiscovery (options: PubSubPeerDiscoveryOptions = {}): (components: PubSubPeerDiscoveryComponents) => PubSubPeerDiscovery {
  return (components) => new PubSubPeerDiscovery(components, options)
}
