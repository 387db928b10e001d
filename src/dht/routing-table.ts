/**
 * The Kademlia routing table: one bucket of at most k peers per common-prefix length with our
 * own keyspace position (sha256 of our peer id), i.e. the fully unfolded table of the spec.
 *
 * A bucket keeps its peers least-recently-seen first. When a new peer arrives at a full
 * bucket it goes to that bucket's replacement cache (bounded, newest kept) and the
 * least-recently-seen member gets a liveness check: if it answers it moves to the back, if it
 * does not it is evicted and the newest replacement takes its place. At most one check runs
 * per bucket, so a flood of new peers costs at most one outstanding check per bucket. A member
 * seen (added, answered a query, passed a check) less than `livenessCheckAge` ago is presumed
 * alive and not checked: otherwise every new connection of a busy node with full buckets
 * would cost a check, i.e. another connection, whose remote may then check in turn.
 *
 * Which peers may enter is decided by the caller (the DHT adds only peers that advertise the
 * DHT protocol); this file only does the bookkeeping.
 */
import type { DhtBucketFill } from '../interface/diagnostics.ts'
import type { PeerId } from '../interface/peer-id.ts'
import { commonPrefixLength, compareDistance, KEYSPACE_BYTES, toKadId } from './distance.ts'

const BUCKET_COUNT = KEYSPACE_BYTES * 8

export interface RoutingTableEntry {
  peerId: PeerId
  kadId: Uint8Array
  /** ms since epoch of the last sign of life (added, answered a query, passed a check). */
  lastSeen: number
}

export interface RoutingTableInit {
  /** Our own peer id bytes. */
  self: Uint8Array
  /** Bucket size (k, default 20). */
  kBucketSize?: number
  /** Replacement cache size per bucket (default k). */
  replacementCacheSize?: number
  /** The oldest member of a full bucket is checked only if not seen for this long, in ms (default 10 min). */
  livenessCheckAge?: number
  /** Resolves true when the peer is alive; used before evicting it for a newcomer. */
  checkLiveness(peerId: PeerId): Promise<boolean>
  onAdd?(peerId: PeerId): void
  onRemove?(peerId: PeerId): void
}

interface Bucket {
  peers: RoutingTableEntry[]
  replacements: RoutingTableEntry[]
  checking: boolean
  /** ms since epoch of the last lookup that landed in this bucket (refresh bookkeeping). */
  lastLookup: number
}

export class RoutingTable {
  readonly selfKadId: Uint8Array
  readonly kBucketSize: number
  readonly #replacementCacheSize: number
  readonly #livenessCheckAge: number
  readonly #init: RoutingTableInit
  readonly #buckets: Bucket[] = []
  readonly #byPeer = new Map<string, RoutingTableEntry>()
  #stopped = false

  constructor (init: RoutingTableInit) {
    this.#init = init
    this.selfKadId = toKadId(init.self)
    this.kBucketSize = init.kBucketSize ?? 20
    this.#replacementCacheSize = init.replacementCacheSize ?? this.kBucketSize
    this.#livenessCheckAge = init.livenessCheckAge ?? 10 * 60 * 1000
    for (let i = 0; i < BUCKET_COUNT; i++) this.#buckets.push({ peers: [], replacements: [], checking: false, lastLookup: 0 })
  }

  get size (): number { return this.#byPeer.size }

  stop (): void { this.#stopped = true }
  start (): void { this.#stopped = false }

  has (peerId: PeerId): boolean { return this.#byPeer.has(peerId.toString()) }

  /** Every peer in the table (no particular order). */
  peers (): PeerId[] {
    return [...this.#byPeer.values()].map(e => e.peerId)
  }

  #bucketIndex (kadId: Uint8Array): number {
    return Math.min(commonPrefixLength(kadId, this.selfKadId), BUCKET_COUNT - 1)
  }

  /**
   * Adds a peer or refreshes it. Returns true when the peer is (now) in the table, false when
   * it waits in the replacement cache of a full bucket.
   */
  add (peerId: PeerId): boolean {
    if (peerId.equals(this.#init.self)) return false
    const key = peerId.toString()
    const existing = this.#byPeer.get(key)
    const bucket = this.#buckets[this.#bucketIndex(existing?.kadId ?? toKadId(peerId.bytes))]
    if (existing !== undefined) {
      existing.lastSeen = Date.now()
      const i = bucket.peers.indexOf(existing)
      if (i !== -1 && i !== bucket.peers.length - 1) {
        bucket.peers.splice(i, 1)
        bucket.peers.push(existing)
      }
      return true
    }
    const entry: RoutingTableEntry = { peerId, kadId: toKadId(peerId.bytes), lastSeen: Date.now() }
    if (bucket.peers.length < this.kBucketSize) {
      this.#insert(bucket, entry)
      return true
    }
    const r = bucket.replacements.findIndex(e => e.peerId.equals(peerId))
    if (r !== -1) bucket.replacements.splice(r, 1)
    bucket.replacements.push(entry)
    if (bucket.replacements.length > this.#replacementCacheSize) bucket.replacements.shift()
    this.#checkOldest(bucket)
    return false
  }

  #insert (bucket: Bucket, entry: RoutingTableEntry): void {
    bucket.peers.push(entry)
    this.#byPeer.set(entry.peerId.toString(), entry)
    this.#init.onAdd?.(entry.peerId)
  }

  /** Checks the least-recently-seen member of a full bucket; evicts it if it is gone. */
  #checkOldest (bucket: Bucket): void {
    if (bucket.checking || this.#stopped) return
    const oldest = bucket.peers[0]
    if (oldest === undefined || Date.now() - oldest.lastSeen < this.#livenessCheckAge) return
    bucket.checking = true
    this.#init.checkLiveness(oldest.peerId).catch(() => false).then((alive) => {
      bucket.checking = false
      if (this.#stopped || bucket.peers[0] !== oldest) return
      if (alive) {
        oldest.lastSeen = Date.now()
        bucket.peers.shift()
        bucket.peers.push(oldest)
      } else {
        this.remove(oldest.peerId)
      }
    }, () => { bucket.checking = false })
  }

  /** Removes a peer; the newest replacement of its bucket takes the seat. */
  remove (peerId: PeerId): boolean {
    const key = peerId.toString()
    const entry = this.#byPeer.get(key)
    if (entry === undefined) return false
    const bucket = this.#buckets[this.#bucketIndex(entry.kadId)]
    const i = bucket.peers.indexOf(entry)
    if (i !== -1) bucket.peers.splice(i, 1)
    this.#byPeer.delete(key)
    this.#init.onRemove?.(peerId)
    const replacement = bucket.replacements.pop()
    if (replacement !== undefined) {
      replacement.lastSeen = Date.now()
      this.#insert(bucket, replacement)
    }
    return true
  }

  /** Marks a peer alive (it answered us) without changing membership. */
  touch (peerId: PeerId): void {
    const entry = this.#byPeer.get(peerId.toString())
    if (entry !== undefined) entry.lastSeen = Date.now()
  }

  /** The `count` peers closest to `kadId` (a keyspace position), closest first. */
  closest (kadId: Uint8Array, count: number = this.kBucketSize, exclude?: PeerId): PeerId[] {
    this.#buckets[this.#bucketIndex(kadId)].lastLookup = Date.now()
    // Peers sharing more prefix with the target than we do all sit in the target's bucket
    // and deeper; start there and widen. Tables hold a few hundred peers at most, so a
    // bounded sort of the candidates is cheap and simple.
    const entries: RoutingTableEntry[] = []
    for (const entry of this.#byPeer.values()) {
      if (exclude !== undefined && entry.peerId.equals(exclude)) continue
      entries.push(entry)
    }
    entries.sort((a, b) => compareDistance(a.kadId, b.kadId, kadId))
    return entries.slice(0, count).map(e => e.peerId)
  }

  /** Deepest non-empty bucket index (how far refresh should go). */
  maxCommonPrefix (): number {
    for (let i = BUCKET_COUNT - 1; i >= 0; i--) if (this.#buckets[i].peers.length > 0) return i
    return 0
  }

  /** When a lookup last targeted the bucket at `cpl` (0 = never). */
  lastLookup (cpl: number): number {
    return this.#buckets[Math.min(cpl, BUCKET_COUNT - 1)].lastLookup
  }

  /** The fill of every non-empty bucket, lowest common prefix first (diagnostics). */
  fill (): DhtBucketFill[] {
    const fills: DhtBucketFill[] = []
    this.#buckets.forEach((b, cpl) => {
      if (b.peers.length > 0 || b.replacements.length > 0) fills.push({ cpl, peers: b.peers.length, replacements: b.replacements.length, capacity: this.kBucketSize })
    })
    return fills
  }

  /** Peers of one bucket, least recently seen first (tests, diagnostics). */
  bucket (cpl: number): RoutingTableEntry[] {
    return [...this.#buckets[cpl].peers]
  }
}
