/**
 * The rendezvous server's registrations: per namespace, per peer, with an expiry; persisted in
 * the node's datastore (the embedded store by default), so a restarted server keeps them until
 * their TTL ends. Each registration gets a sequence number when it is made; a discover cookie
 * is "the last sequence number you saw in this namespace", so paging returns only what is new.
 *
 * Limits: registrations per peer (all namespaces) and per namespace; a registration that would
 * break one is refused. Expired ones are skipped when read and swept from memory and store.
 */
import type { Datastore } from '../../interface/datastore.ts'
import { ProtobufReader, ProtobufWriter } from '../../util/protobuf.ts'
import { utf8Encode } from '../../util/bytes.ts'

export interface Registration {
  ns: string
  peer: string
  signedPeerRecord: Uint8Array
  /** ms since epoch */
  expiresAt: number
  seq: number
}

export interface RegistrationLimits {
  /** Namespaces one peer may be registered in at once (default 1000, the spec's). */
  maxPerPeer?: number
  /** Peers one namespace may hold (default 10000). */
  maxPerNamespace?: number
}

const KEY_PREFIX = '/rendezvous/registrations/'

/** Datastore key of a registration: namespace in hex (any bytes are allowed in a namespace), then the peer. */
function keyOf (ns: string, peer: string): string {
  let hex = ''
  for (const b of utf8Encode(ns)) hex += b.toString(16).padStart(2, '0')
  return `${KEY_PREFIX}${hex}/${peer}`
}

function encodeRegistration (r: Registration): Uint8Array {
  return new ProtobufWriter().string(1, r.ns).string(2, r.peer).bytes(3, r.signedPeerRecord).uint64(4, BigInt(r.expiresAt)).finish()
}

function decodeRegistration (bytes: Uint8Array): Registration | undefined {
  try {
    const r = new ProtobufReader(bytes)
    const out: Partial<Registration> = {}
    while (!r.done) {
      const [field, wire] = r.tag()
      if (field === 1) out.ns = r.string(wire, 1024)
      else if (field === 2) out.peer = r.string(wire, 256)
      else if (field === 3) out.signedPeerRecord = r.bytes(wire, 64 * 1024)
      else if (field === 4) out.expiresAt = Number(r.uint64(wire))
      else r.skip(wire)
    }
    if (out.ns === undefined || out.peer === undefined || out.signedPeerRecord === undefined || out.expiresAt === undefined) return undefined
    return { ...out, seq: 0 } as Registration
  } catch {
    return undefined
  }
}

export type AddResult = 'ok' | 'peer-limit' | 'namespace-limit'

export class RegistrationStore {
  readonly #datastore: Datastore
  readonly #maxPerPeer: number
  readonly #maxPerNamespace: number
  readonly #now: () => number
  /** ns -> peer -> registration */
  readonly #byNamespace = new Map<string, Map<string, Registration>>()
  readonly #countByPeer = new Map<string, number>()
  #seq = 0

  constructor (datastore: Datastore, limits: RegistrationLimits = {}, now: () => number = Date.now) {
    this.#datastore = datastore
    this.#maxPerPeer = limits.maxPerPeer ?? 1000
    this.#maxPerNamespace = limits.maxPerNamespace ?? 10_000
    this.#now = now
  }

  /** Loads the persisted registrations that have not expired (and deletes those that have). */
  async load (): Promise<void> {
    const expired: string[] = []
    const now = this.#now()
    for await (const { key, value } of this.#datastore.query({ prefix: KEY_PREFIX })) {
      const r = decodeRegistration(value)
      if (r === undefined || r.expiresAt <= now) {
        expired.push(key)
        continue
      }
      this.#insert({ ...r, seq: ++this.#seq })
    }
    if (expired.length > 0) await this.#datastore.batch(expired.map(key => ({ type: 'delete' as const, key })))
  }

  get size (): number {
    let n = 0
    for (const peers of this.#byNamespace.values()) n += peers.size
    return n
  }

  async add (ns: string, peer: string, signedPeerRecord: Uint8Array, ttlMs: number): Promise<AddResult> {
    const peers = this.#byNamespace.get(ns)
    const existing = peers?.get(peer)
    if (existing === undefined) {
      if ((this.#countByPeer.get(peer) ?? 0) >= this.#maxPerPeer) return 'peer-limit'
      if ((peers?.size ?? 0) >= this.#maxPerNamespace) return 'namespace-limit'
    } else {
      this.#remove(existing)
    }
    const r: Registration = { ns, peer, signedPeerRecord, expiresAt: this.#now() + ttlMs, seq: ++this.#seq }
    this.#insert(r)
    await this.#datastore.put(keyOf(ns, peer), encodeRegistration(r))
    return 'ok'
  }

  async remove (ns: string, peer: string): Promise<void> {
    const r = this.#byNamespace.get(ns)?.get(peer)
    if (r === undefined) return
    this.#remove(r)
    await this.#datastore.delete(keyOf(ns, peer))
  }

  /**
   * Live registrations in `ns` (every namespace when undefined) made after sequence number
   * `after`, oldest first, at most `limit`; and the sequence number to continue from.
   */
  list (ns: string | undefined, after: number, limit: number): { registrations: Registration[], last: number } {
    const now = this.#now()
    const found: Registration[] = []
    const namespaces = ns === undefined ? [...this.#byNamespace.values()] : [this.#byNamespace.get(ns) ?? new Map()]
    for (const peers of namespaces) {
      for (const r of peers.values()) if (r.seq > after && r.expiresAt > now) found.push(r)
    }
    found.sort((a, b) => a.seq - b.seq)
    const registrations = found.slice(0, limit)
    return { registrations, last: registrations.at(-1)?.seq ?? after }
  }

  /** Drops expired registrations from memory and the datastore. */
  async sweep (): Promise<number> {
    const now = this.#now()
    const gone: Registration[] = []
    for (const peers of this.#byNamespace.values()) for (const r of peers.values()) if (r.expiresAt <= now) gone.push(r)
    for (const r of gone) this.#remove(r)
    if (gone.length > 0) await this.#datastore.batch(gone.map(r => ({ type: 'delete' as const, key: keyOf(r.ns, r.peer) })))
    return gone.length
  }

  #insert (r: Registration): void {
    let peers = this.#byNamespace.get(r.ns)
    if (peers === undefined) {
      peers = new Map()
      this.#byNamespace.set(r.ns, peers)
    }
    peers.set(r.peer, r)
    this.#countByPeer.set(r.peer, (this.#countByPeer.get(r.peer) ?? 0) + 1)
  }

  #remove (r: Registration): void {
    const peers = this.#byNamespace.get(r.ns)
    if (peers?.get(r.peer) !== r) return
    peers.delete(r.peer)
    if (peers.size === 0) this.#byNamespace.delete(r.ns)
    const left = (this.#countByPeer.get(r.peer) ?? 1) - 1
    if (left <= 0) this.#countByPeer.delete(r.peer)
    else this.#countByPeer.set(r.peer, left)
  }
}
