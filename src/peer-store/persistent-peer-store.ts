/**
 * The peer store: what this node knows about other peers (addresses, protocols, keys, metadata,
 * tags, signed peer records), kept in a Datastore under `/peers/<peer id as base32 CID>` with a
 * bounded in-memory cache in front.
 *
 * Semantics worth knowing:
 * - `save` and `patch` replace the fields given and keep the others; `merge` adds to lists and
 *   maps (an `undefined` map value deletes that key in every mode).
 * - Addresses and tags may expire; expired ones are invisible on read and dropped from storage
 *   at the next write of that peer.
 * - Once a peer has handed us a signed peer record, its certified addresses are the truth:
 *   `merge` ignores new uncertified addresses for it (as go-libp2p does), a newer record
 *   replaces all addresses, and an older or equal `seq` is ignored.
 * - Per peer, updates are serialised, so concurrent merges never lose each other's changes.
 * - A stored record that fails to decode is treated as absent by writers (the next write
 *   repairs it), skipped by `all()`, and reported by `get()` as InvalidMessageError.
 * - Limits: MAX_ADDRESSES_PER_PEER addresses (the oldest uncertified ones are evicted), and
 *   protocols, metadata and tags beyond their limits are refused with LimitExceededError.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from '../interface/common.ts'
import type { Datastore } from '../interface/datastore.ts'
import type { PeerId } from '../interface/peer-id.ts'
import type { Address, Peer, PeerData, PeerStore, Tag } from '../interface/peer-store.ts'
import type { PublicKey } from '../interface/keys.ts'
import { consumeSignedPeerRecord } from '../peer/peer-record.ts'
import type { ConsumedPeerRecord } from '../peer/peer-record.ts'
import { peerIdFromPublicKey, peerIdFromString } from '../peer/peer-id.ts'
import { throwIfAborted } from '../util/abort.ts'
import { peerIdStringOf, withoutPeerId } from '../util/multiaddr.ts'
import { equalBytes } from '../util/bytes.ts'
import { InvalidMessageError, InvalidParametersError, LimitExceededError, NotFoundError } from '../util/errors.ts'
import { logger as defaultLogger } from '../util/logger.ts'
import type { Logger } from '../interface/logger.ts'
import { compareKeys } from '../store/keys.ts'
import {
  decodeStoredPeer, emptyStoredPeer, encodeStoredPeer,
  MAX_ADDRESSES_PER_PEER, MAX_METADATA_ENTRIES, MAX_METADATA_KEY_LENGTH, MAX_METADATA_VALUE_LENGTH,
  MAX_MULTIADDR_LENGTH, MAX_PROTOCOL_LENGTH, MAX_PROTOCOLS_PER_PEER, MAX_TAG_NAME_LENGTH, MAX_TAGS_PER_PEER
} from './stored-peer.ts'
import type { StoredAddress, StoredPeer } from './stored-peer.ts'

export const PEER_KEY_PREFIX = '/peers/'
const DEFAULT_CACHE_SIZE = 1024

export interface PersistentPeerStoreInit {
  datastore: Datastore
  /** This node: excluded from `all()`. */
  peerId: PeerId
  logger?(name: string): Logger
  /** Called after a write that changed a peer (also for this node's own entry). */
  onPeerUpdate?(peer: Peer, previous: Peer | undefined): void
  /** Decoded peers kept in memory (default 1024). */
  cacheSize?: number
  /** Time source in ms (tests). */
  clock?(): number
}

/** PeerData validated and normalised before any I/O. */
interface Update {
  addresses?: StoredAddress[]
  protocols?: string[]
  metadata?: Array<[string, Uint8Array | undefined]>
  tags?: Array<[string, Tag | undefined]>
  publicKey?: PublicKey
  record?: ConsumedPeerRecord
}

type Mode = 'replace' | 'merge'

export class PersistentPeerStore implements PeerStore {
  readonly #datastore: Datastore
  readonly #self: PeerId
  readonly #log: Logger
  readonly #onPeerUpdate: PersistentPeerStoreInit['onPeerUpdate']
  readonly #cacheSize: number
  readonly #now: () => number
  /** LRU by Map insertion order. */
  readonly #cache = new Map<string, StoredPeer>()
  /** The tail of each peer's update chain. */
  readonly #locks = new Map<string, Promise<void>>()

  constructor (init: PersistentPeerStoreInit) {
    this.#datastore = init.datastore
    this.#self = init.peerId
    this.#log = init.logger?.('peer-store') ?? defaultLogger('peer-store')
    this.#onPeerUpdate = init.onPeerUpdate
    this.#cacheSize = Math.max(0, init.cacheSize ?? DEFAULT_CACHE_SIZE)
    this.#now = init.clock ?? Date.now
  }

  async has (peerId: PeerId, options?: AbortOptions): Promise<boolean> {
    const key = peerKey(peerId)
    if (this.#cache.has(key)) return true
    return await this.#datastore.has(key, options)
  }

  async get (peerId: PeerId, options?: AbortOptions): Promise<Peer> {
    const stored = await this.#load(peerKey(peerId), options)
    if (stored === undefined) throw new NotFoundError(`peer ${peerId.toString()} is not in the peer store`)
    return toPeer(peerId, stored, this.#now())
  }

  async all (options: AbortOptions & { filter?(peer: Peer): boolean, limit?: number } = {}): Promise<Peer[]> {
    const limit = options.limit ?? Infinity
    const out: Peer[] = []
    if (limit <= 0) return out
    const now = this.#now()
    for await (const { key, value } of this.#datastore.query({ prefix: PEER_KEY_PREFIX, signal: options.signal })) {
      let id: PeerId
      let stored: StoredPeer
      try {
        id = peerIdFromString(key.slice(PEER_KEY_PREFIX.length))
        stored = this.#cache.get(key) ?? decodeStoredPeer(value)
      } catch (err) {
        this.#log.error('skipping unreadable peer store entry %s: %s', key, (err as Error).message)
        continue
      }
      if (id.equals(this.#self)) continue
      const peer = toPeer(id, stored, now)
      if (options.filter !== undefined && !options.filter(peer)) continue
      out.push(peer)
      if (out.length >= limit) break
    }
    return out
  }

  async save (peerId: PeerId, data: PeerData, options?: AbortOptions): Promise<Peer> {
    return await this.#update(peerId, data, 'replace', options, true)
  }

  async patch (peerId: PeerId, data: PeerData, options?: AbortOptions): Promise<Peer> {
    return await this.#update(peerId, data, 'replace', options)
  }

  async merge (peerId: PeerId, data: PeerData, options?: AbortOptions): Promise<Peer> {
    return await this.#update(peerId, data, 'merge', options)
  }

  async delete (peerId: PeerId, options?: AbortOptions): Promise<void> {
    const key = peerKey(peerId)
    await this.#withLock(key, async () => {
      await this.#datastore.delete(key, options)
      this.#cache.delete(key)
    })
  }

  async consumePeerRecord (envelope: Uint8Array, expectedPeer?: PeerId, options?: AbortOptions): Promise<boolean> {
    // The envelope stored for a peer was verified before it was stored, and the same bytes
    // again change nothing (their sequence number is not newer): skip the signature check,
    // which identify would otherwise pay on every reconnection (~150 us).
    if (expectedPeer !== undefined && await this.#storedEnvelopeEquals(expectedPeer, envelope, options)) return false
    const record: ConsumedPeerRecord = await consumeSignedPeerRecord(envelope, { expectedPeer })
    const raw = envelope.slice()
    const applied = await this.#mutate(record.peerId, options, (next) => applyRecord(next, record, raw))
    return applied.changed
  }

  // ---- internals ------------------------------------------------------------------------------

  async #storedEnvelopeEquals (peerId: PeerId, envelope: Uint8Array, options?: AbortOptions): Promise<boolean> {
    let stored: StoredPeer | undefined
    try {
      stored = await this.#load(peerKey(peerId), options)
    } catch {
      return false
    }
    return stored?.peerRecordEnvelope !== undefined && equalBytes(stored.peerRecordEnvelope, envelope)
  }

  /** `fresh`: start from an empty record (save), instead of the stored one (patch, merge). */
  async #update (peerId: PeerId, data: PeerData, mode: Mode, options?: AbortOptions, fresh = false): Promise<Peer> {
    throwIfAborted(options?.signal)
    const update = validate(peerId, data, this.#now())
    if (mode === 'merge' && !fresh && data.peerRecordEnvelope === undefined && onlyAddresses(update)) {
      const unchanged = this.#unchangedByAddresses(peerId, update.addresses!)
      if (unchanged !== undefined) return unchanged
    }
    let rawEnvelope: Uint8Array | undefined
    if (data.peerRecordEnvelope !== undefined) {
      update.record = await consumeSignedPeerRecord(data.peerRecordEnvelope, { expectedPeer: peerId })
      rawEnvelope = data.peerRecordEnvelope.slice()
    }
    const { peer } = await this.#mutate(peerId, options, (next) => {
      if (fresh) Object.assign(next, emptyStoredPeer())
      applyUpdate(next, update, mode)
      if (update.record !== undefined && rawEnvelope !== undefined) applyRecord(next, update.record, rawEnvelope)
      return true
    })
    return peer
  }

  /**
   * The peer as it is, when merging `addresses` into it would change nothing: each is known
   * already, without an expiry, at least as certified; nothing stored has expired (a merge
   * drops what has) or exceeds a limit; no change of the peer is in flight. The connection
   * manager merges the address of every dialed connection, mostly one already stored: this
   * spares it the merge's lock, copy, two encodings and compare. Undefined: merge as usual.
   */
  #unchangedByAddresses (peerId: PeerId, addresses: StoredAddress[]): Peer | undefined {
    const key = peerKey(peerId)
    if (this.#locks.has(key)) return undefined
    const current = this.#cache.get(key)
    if (current === undefined) return undefined
    if (current.addresses.length > MAX_ADDRESSES_PER_PEER || current.protocols.length > MAX_PROTOCOLS_PER_PEER || current.metadata.size > MAX_METADATA_ENTRIES || current.tags.size > MAX_TAGS_PER_PEER) return undefined
    const now = this.#now()
    for (const a of current.addresses) if (a.expires !== undefined && a.expires <= now) return undefined
    for (const tag of current.tags.values()) if (tag.expires !== undefined && tag.expires <= now) return undefined
    for (const a of addresses) {
      const known = current.addresses.find(b => equalBytes(b.multiaddr.bytes, a.multiaddr.bytes))
      if (known === undefined || known.expires !== undefined || (a.isCertified && !known.isCertified)) return undefined
    }
    // as a load would: the entry is the most recently used
    this.#cache.delete(key)
    this.#cache.set(key, current)
    return toPeer(peerId, current, now)
  }

  /**
   * Loads the peer (or starts empty), lets `change` edit a copy (returning false to leave it
   * untouched), writes it if its contents changed, and reports the update.
   */
  async #mutate (peerId: PeerId, options: AbortOptions | undefined, change: (next: StoredPeer) => boolean): Promise<{ peer: Peer, changed: boolean }> {
    const key = peerKey(peerId)
    return await this.#withLock(key, async () => {
      let current: StoredPeer | undefined
      try {
        current = await this.#load(key, options)
      } catch (err) {
        if (!(err instanceof InvalidMessageError)) throw err
        this.#log.error('replacing the unreadable peer store entry of %s: %s', peerId, err.message)
      }
      const now = this.#now()
      const next = cloneWithoutExpired(current ?? emptyStoredPeer(), now)
      if (!change(next)) return { peer: toPeer(peerId, current ?? next, now), changed: false }
      enforceLimits(next)
      const changed = current === undefined || !equalBytes(encodeStoredPeer(current, false), encodeStoredPeer(next, false))
      if (!changed) return { peer: toPeer(peerId, current as StoredPeer, now), changed: false }
      next.updated = now
      await this.#datastore.put(key, encodeStoredPeer(next), options)
      this.#remember(key, next)
      const peer = toPeer(peerId, next, now)
      if (this.#onPeerUpdate !== undefined) {
        try {
          this.#onPeerUpdate(toPeer(peerId, next, now), current === undefined ? undefined : toPeer(peerId, current, now))
        } catch (err) {
          this.#log.error('onPeerUpdate threw: %s', err)
        }
      }
      return { peer, changed: true }
    })
  }

  async #load (key: string, options?: AbortOptions): Promise<StoredPeer | undefined> {
    const cached = this.#cache.get(key)
    if (cached !== undefined) {
      this.#cache.delete(key)
      this.#cache.set(key, cached)
      return cached
    }
    const bytes = await this.#datastore.get(key, options)
    if (bytes === undefined) return undefined
    let stored: StoredPeer
    try {
      stored = decodeStoredPeer(bytes)
    } catch (err) {
      throw new InvalidMessageError(`the stored record of ${key} is corrupt: ${(err as Error).message}`, { cause: err })
    }
    this.#remember(key, stored)
    return stored
  }

  #remember (key: string, stored: StoredPeer): void {
    if (this.#cacheSize === 0) return
    this.#cache.delete(key)
    this.#cache.set(key, stored)
    if (this.#cache.size > this.#cacheSize) {
      const oldest = this.#cache.keys().next().value
      if (oldest !== undefined) this.#cache.delete(oldest)
    }
  }

  async #withLock<T> (key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve()
    const run = previous.then(fn)
    const tail = run.then(() => {}, () => {})
    this.#locks.set(key, tail)
    try {
      return await run
    } finally {
      if (this.#locks.get(key) === tail) this.#locks.delete(key)
    }
  }
}

/** Datastore keys by PeerId object: every store operation needs one, and base32 costs ~4 us. */
const peerKeys = new WeakMap<PeerId, string>()

export function peerKey (peerId: PeerId): string {
  let key = peerKeys.get(peerId)
  if (key === undefined) {
    key = PEER_KEY_PREFIX + peerId.toCID()
    peerKeys.set(peerId, key)
  }
  return key
}

// ---- pure helpers -------------------------------------------------------------------------

function toPeer (id: PeerId, stored: StoredPeer, now: number): Peer {
  const addresses: Address[] = []
  for (const a of stored.addresses) {
    if (a.expires !== undefined && a.expires <= now) continue
    addresses.push(a.expires === undefined ? { multiaddr: a.multiaddr, isCertified: a.isCertified } : { multiaddr: a.multiaddr, isCertified: a.isCertified, expires: a.expires })
  }
  const tags = new Map<string, Tag>()
  for (const [name, tag] of stored.tags) {
    if (tag.expires !== undefined && tag.expires <= now) continue
    tags.set(name, { ...tag })
  }
  const peer: Peer = { id, addresses, protocols: [...stored.protocols], metadata: new Map(stored.metadata), tags }
  const publicKey = stored.publicKey ?? id.publicKey
  if (publicKey !== undefined) peer.publicKey = publicKey
  if (stored.peerRecordEnvelope !== undefined) peer.peerRecordEnvelope = stored.peerRecordEnvelope
  return peer
}

function cloneWithoutExpired (stored: StoredPeer, now: number): StoredPeer {
  const tags = new Map<string, Tag>()
  for (const [name, tag] of stored.tags) if (tag.expires === undefined || tag.expires > now) tags.set(name, tag)
  return {
    ...stored,
    addresses: stored.addresses.filter(a => a.expires === undefined || a.expires > now),
    protocols: [...stored.protocols],
    metadata: new Map(stored.metadata),
    tags
  }
}

function entriesOf<V> (value: Map<string, V> | Record<string, V>): Array<[string, V]> {
  return value instanceof Map ? [...value.entries()] : Object.entries(value)
}

function validate (peerId: PeerId, data: PeerData, now: number): Update {
  if (data == null || typeof data !== 'object') throw new InvalidParametersError('peer data must be an object')
  const update: Update = {}
  if (data.addresses !== undefined || data.multiaddrs !== undefined) {
    const addresses: StoredAddress[] = []
    for (const a of data.addresses ?? []) {
      checkMultiaddr(a?.multiaddr)
      if (a.expires !== undefined && !(Number.isFinite(a.expires) && a.expires >= 0)) throw new InvalidParametersError('address expiry must be a time in ms')
      addresses.push(a.expires === undefined ? { multiaddr: a.multiaddr, isCertified: a.isCertified === true } : { multiaddr: a.multiaddr, isCertified: a.isCertified === true, expires: Math.floor(a.expires) })
    }
    const ttl = data.addressTtl
    if (ttl !== undefined && !(Number.isFinite(ttl) && ttl >= 0)) throw new InvalidParametersError('addressTtl must be a non-negative number of ms')
    for (const m of data.multiaddrs ?? []) {
      checkMultiaddr(m)
      addresses.push(ttl === undefined ? { multiaddr: m, isCertified: false } : { multiaddr: m, isCertified: false, expires: Math.floor(now + ttl) })
    }
    update.addresses = addresses
  }
  if (data.protocols !== undefined) {
    if (!Array.isArray(data.protocols)) throw new InvalidParametersError('protocols must be an array')
    for (const p of data.protocols) {
      if (typeof p !== 'string' || p.length === 0 || p.length > MAX_PROTOCOL_LENGTH) throw new InvalidParametersError(`invalid protocol ${String(p).slice(0, 64)}`)
    }
    update.protocols = data.protocols
  }
  if (data.metadata !== undefined) {
    update.metadata = entriesOf(data.metadata)
    for (const [key, value] of update.metadata) {
      if (typeof key !== 'string' || key.length === 0 || key.length > MAX_METADATA_KEY_LENGTH) throw new InvalidParametersError('invalid metadata key')
      if (value !== undefined && !(value instanceof Uint8Array)) throw new InvalidParametersError(`metadata ${key} must be a Uint8Array`)
      if (value !== undefined && value.length > MAX_METADATA_VALUE_LENGTH) throw new LimitExceededError(`metadata ${key} is larger than ${MAX_METADATA_VALUE_LENGTH} bytes`)
    }
    update.metadata = update.metadata.map(([k, v]) => [k, v?.slice()])
  }
  if (data.tags !== undefined) {
    update.tags = entriesOf(data.tags)
    for (const [name, tag] of update.tags) {
      if (typeof name !== 'string' || name.length === 0 || name.length > MAX_TAG_NAME_LENGTH) throw new InvalidParametersError('invalid tag name')
      if (tag === undefined) continue
      if (!Number.isInteger(tag.value) || tag.value < 0 || tag.value > 100) throw new InvalidParametersError(`tag ${name} value must be an integer from 0 to 100`)
      if (tag.expires !== undefined && !(Number.isFinite(tag.expires) && tag.expires >= 0)) throw new InvalidParametersError(`tag ${name} expiry must be a time in ms`)
    }
    update.tags = update.tags.map(([n, t]) => [n, t === undefined ? undefined : (t.expires === undefined ? { value: t.value } : { value: t.value, expires: Math.floor(t.expires) })])
  }
  if (data.publicKey !== undefined) {
    if (!peerIdFromPublicKey(data.publicKey).equals(peerId)) throw new InvalidParametersError(`the public key does not belong to ${peerId.toString()}`)
    update.publicKey = data.publicKey
  }
  return update
}

function onlyAddresses (update: Update): boolean {
  return update.addresses !== undefined && update.protocols === undefined && update.metadata === undefined && update.tags === undefined && update.publicKey === undefined && update.record === undefined
}

function checkMultiaddr (m: Multiaddr | undefined): void {
  if (m == null || !(m.bytes instanceof Uint8Array)) throw new InvalidParametersError('an address must be a Multiaddr')
  if (m.bytes.length > MAX_MULTIADDR_LENGTH) throw new InvalidParametersError('multiaddr too long')
}

function applyUpdate (next: StoredPeer, update: Update, mode: Mode): void {
  if (update.addresses !== undefined) {
    if (mode === 'replace') {
      next.addresses = mergeAddresses([], update.addresses, false)
    } else {
      next.addresses = mergeAddresses(next.addresses, update.addresses, next.addresses.some(a => a.isCertified))
    }
  }
  if (update.protocols !== undefined) {
    const base = mode === 'merge' ? next.protocols : []
    next.protocols = [...new Set([...base, ...update.protocols])].sort(compareKeys)
  }
  if (update.metadata !== undefined) {
    if (mode === 'replace') next.metadata = new Map()
    for (const [key, value] of update.metadata) {
      if (value === undefined) next.metadata.delete(key)
      else next.metadata.set(key, value)
    }
  }
  if (update.tags !== undefined) {
    if (mode === 'replace') next.tags = new Map()
    for (const [name, tag] of update.tags) {
      if (tag === undefined) next.tags.delete(name)
      else next.tags.set(name, tag)
    }
  }
  if (update.publicKey !== undefined) next.publicKey = update.publicKey
}

/**
 * Adds `incoming` to `existing`: a known address keeps the stronger claim (certified wins, the
 * later expiry wins, no expiry beats any). With `certifiedOnly`, new uncertified addresses are
 * ignored: a peer that signed its addresses is not contradicted by hearsay.
 */
function mergeAddresses (existing: StoredAddress[], incoming: StoredAddress[], certifiedOnly: boolean): StoredAddress[] {
  const out = existing.map(a => ({ ...a }))
  for (const a of incoming) {
    const known = out.find(b => equalBytes(b.multiaddr.bytes, a.multiaddr.bytes))
    if (known !== undefined) {
      known.isCertified = known.isCertified || a.isCertified
      if (known.expires === undefined || a.expires === undefined) delete known.expires
      else known.expires = Math.max(known.expires, a.expires)
      continue
    }
    if (certifiedOnly && !a.isCertified) continue
    out.push({ ...a })
  }
  return out
}

/** Makes a verified, newer signed peer record the source of this peer's addresses. */
function applyRecord (next: StoredPeer, record: ConsumedPeerRecord, rawEnvelope: Uint8Array): boolean {
  if (next.peerRecordSeq !== undefined && record.seq <= next.peerRecordSeq) return false
  next.addresses = mergeAddresses([], recordAddresses(record).slice(0, MAX_ADDRESSES_PER_PEER).map(m => ({ multiaddr: m, isCertified: true })), false)
  next.peerRecordEnvelope = rawEnvelope
  next.peerRecordSeq = record.seq
  next.publicKey ??= record.envelope.publicKey
  return true
}

/**
 * A record's addresses as dialable addresses of its peer: py-libp2p 0.8 signs them with
 * `/p2p/<its own id>` appended, which is stripped (go's peerstore does the same); one naming
 * another peer is not an address of this one and is dropped.
 */
function recordAddresses (record: ConsumedPeerRecord): Multiaddr[] {
  const self = record.peerId.toString()
  const out: Multiaddr[] = []
  for (const addr of record.multiaddrs) {
    const named = peerIdStringOf(addr)
    if (named === undefined) out.push(addr)
    else if (named === self) out.push(withoutPeerId(addr))
  }
  return out
}

function enforceLimits (next: StoredPeer): void {
  if (next.addresses.length > MAX_ADDRESSES_PER_PEER) {
    // Keep every certified address, then the most recently added uncertified ones.
    const certified = next.addresses.filter(a => a.isCertified).slice(0, MAX_ADDRESSES_PER_PEER)
    const room = MAX_ADDRESSES_PER_PEER - certified.length
    const uncertified = room > 0 ? next.addresses.filter(a => !a.isCertified).slice(-room) : []
    const keep = new Set([...certified, ...uncertified])
    next.addresses = next.addresses.filter(a => keep.has(a))
  }
  if (next.protocols.length > MAX_PROTOCOLS_PER_PEER) throw new LimitExceededError(`a peer may list at most ${MAX_PROTOCOLS_PER_PEER} protocols`)
  if (next.metadata.size > MAX_METADATA_ENTRIES) throw new LimitExceededError(`a peer may have at most ${MAX_METADATA_ENTRIES} metadata entries`)
  if (next.tags.size > MAX_TAGS_PER_PEER) throw new LimitExceededError(`a peer may have at most ${MAX_TAGS_PER_PEER} tags`)
}
