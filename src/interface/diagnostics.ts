/**
 * What services show of their inner state to diagnostic tools (the live dashboard): the DHT's
 * buckets and recent lookups, pubsub peers with their scores. Each is read on demand (once per
 * dashboard tick), never pushed from a data path. A tool finds them by shape, not by class, so
 * it needs no import of the service.
 */

/** One k-bucket of the routing table (common prefix length with our key). */
export interface DhtBucketFill {
  cpl: number
  peers: number
  /** Peers waiting in the bucket's replacement cache. */
  replacements: number
  /** k: how many peers the bucket can hold. */
  capacity: number
}

/** One finished DHT lookup. */
export interface DhtQueryRecord {
  /** The request type: find_node, get_providers, get_value, put_value, add_provider, ... */
  type: string
  /** The lookup's key, base58btc when it is a peer id or multihash, else hex (shortened). */
  key: string
  /** ms since epoch when it started. */
  startedAt: number
  durationMs: number
  /** found, finished, timeout or error (as the lookup metric's outcome label). */
  outcome: string
  /** Requests sent to peers, and how many of them failed. */
  peersContacted: number
  failed: number
}

export interface DhtDiagnostics {
  /** The non-empty buckets, lowest common prefix first. */
  routingBuckets(): DhtBucketFill[]
  /** The most recent lookups, newest first (bounded). */
  recentQueries(): DhtQueryRecord[]
}

/** A pubsub peer as its router sees it. */
export interface PubSubPeerDiagnostics {
  peer: string
  /** Topics the peer told us it subscribes to. */
  topics: string[]
  /** Topics whose mesh holds the peer. */
  mesh: string[]
  /** Its score (0 without scoring). */
  score: number
  /** The score's parts when scoring is on: topics (P1-P4), app (P5), ipColocation (P6), behaviour (P7). */
  parts?: Record<string, number>
}

export interface PubSubDiagnostics {
  peerDiagnostics(): PubSubPeerDiagnostics[]
}
