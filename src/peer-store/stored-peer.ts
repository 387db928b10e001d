/**
 * How the peer store keeps one peer on disk: a small protobuf message of our own (it never
 * leaves this node, but it outlives the process, so unknown fields are skipped for forward
 * compatibility and every count and length is bounded: a corrupt or hostile file yields
 * InvalidMessageError, never a crash or a large allocation).
 *
 * ```
 * StoredPeer {
 *   repeated Address addresses = 1;  // Address { bytes multiaddr = 1; bool certified = 2; uint64 expires = 3; }
 *   repeated string protocols = 2;
 *   repeated Metadata metadata = 3;  // Metadata { string key = 1; bytes value = 2; }
 *   repeated Tag tags = 4;           // Tag { string name = 1; uint32 value = 2; uint64 expires = 3; }
 *   bytes public_key = 5;            // PublicKey protobuf
 *   bytes peer_record_envelope = 6;
 *   uint64 peer_record_seq = 7;
 *   uint64 updated = 8;              // ms since epoch
 * }
 * ```
 * Fields are written in tag order, protocols sorted and maps by key, so equal contents give
 * equal bytes (used to tell whether an update changed anything).
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PublicKey } from '../interface/keys.ts'
import type { Tag } from '../interface/peer-store.ts'
import { publicKeyFromProtobuf } from '../crypto/index.ts'
import { InvalidMessageError } from '../util/errors.ts'
import { ProtobufReader, ProtobufWriter, pushBounded } from '../util/protobuf.ts'
import { compareKeys } from '../store/keys.ts'

export const MAX_ADDRESSES_PER_PEER = 64
export const MAX_PROTOCOLS_PER_PEER = 256
export const MAX_PROTOCOL_LENGTH = 1024
export const MAX_METADATA_ENTRIES = 64
export const MAX_METADATA_KEY_LENGTH = 256
export const MAX_METADATA_VALUE_LENGTH = 16 * 1024
export const MAX_TAGS_PER_PEER = 256
export const MAX_TAG_NAME_LENGTH = 256
export const MAX_MULTIADDR_LENGTH = 1024
export const MAX_ENVELOPE_LENGTH = 64 * 1024
const MAX_PUBLIC_KEY_LENGTH = 8 * 1024
/** Far above the largest record the limits above allow. */
export const MAX_STORED_PEER_SIZE = 2 * 1024 * 1024

export interface StoredAddress {
  multiaddr: Multiaddr
  isCertified: boolean
  expires?: number
}

/** The peer store's own view of a peer (decoded and validated once, then cached). */
export interface StoredPeer {
  addresses: StoredAddress[]
  /** Sorted, unique. */
  protocols: string[]
  metadata: Map<string, Uint8Array>
  tags: Map<string, Tag>
  publicKey?: PublicKey
  peerRecordEnvelope?: Uint8Array
  peerRecordSeq?: bigint
  updated: number
}

export function emptyStoredPeer (): StoredPeer {
  return { addresses: [], protocols: [], metadata: new Map(), tags: new Map(), updated: 0 }
}

function sortedEntries<V> (map: Map<string, V>): Array<[string, V]> {
  return [...map.entries()].sort((a, b) => compareKeys(a[0], b[0]))
}

/** `includeUpdated: false` leaves out the timestamp, to compare contents. */
export function encodeStoredPeer (peer: StoredPeer, includeUpdated: boolean = true): Uint8Array {
  const w = new ProtobufWriter(256)
  for (const a of peer.addresses) {
    const inner = new ProtobufWriter(a.multiaddr.bytes.length + 16).bytes(1, a.multiaddr.bytes)
    if (a.isCertified) inner.uint(2, true)
    if (a.expires !== undefined) inner.uint(3, a.expires)
    w.bytes(1, inner.finish())
  }
  for (const p of peer.protocols) w.string(2, p)
  for (const [key, value] of sortedEntries(peer.metadata)) {
    w.bytes(3, new ProtobufWriter(key.length + value.length + 8).string(1, key).bytes(2, value).finish())
  }
  for (const [name, tag] of sortedEntries(peer.tags)) {
    const inner = new ProtobufWriter(name.length + 16).string(1, name).uint(2, tag.value)
    if (tag.expires !== undefined) inner.uint(3, tag.expires)
    w.bytes(4, inner.finish())
  }
  if (peer.publicKey !== undefined) w.bytes(5, peer.publicKey.toProtobuf())
  if (peer.peerRecordEnvelope !== undefined) w.bytes(6, peer.peerRecordEnvelope)
  if (peer.peerRecordSeq !== undefined) w.uint64(7, peer.peerRecordSeq)
  if (includeUpdated) w.uint(8, peer.updated)
  // finish() is a view of the writer's buffer; nothing else writes to it, so no copy needed.
  return w.finish()
}

export function decodeStoredPeer (bytes: Uint8Array): StoredPeer {
  if (bytes.length > MAX_STORED_PEER_SIZE) throw new InvalidMessageError(`stored peer of ${bytes.length} bytes exceeds ${MAX_STORED_PEER_SIZE}`)
  const peer = emptyStoredPeer()
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    switch (field) {
      case 1: pushBounded(peer.addresses, decodeAddress(r.bytes(wire, MAX_MULTIADDR_LENGTH + 32)), MAX_ADDRESSES_PER_PEER, 'addresses'); break
      case 2: pushBounded(peer.protocols, r.string(wire, MAX_PROTOCOL_LENGTH), MAX_PROTOCOLS_PER_PEER, 'protocols'); break
      case 3: {
        const [key, value] = decodeMetadata(r.bytes(wire, MAX_METADATA_KEY_LENGTH + MAX_METADATA_VALUE_LENGTH + 16))
        if (peer.metadata.size >= MAX_METADATA_ENTRIES) throw new InvalidMessageError(`more than ${MAX_METADATA_ENTRIES} metadata entries`)
        peer.metadata.set(key, value)
        break
      }
      case 4: {
        const [name, tag] = decodeTag(r.bytes(wire, MAX_TAG_NAME_LENGTH + 32))
        if (peer.tags.size >= MAX_TAGS_PER_PEER) throw new InvalidMessageError(`more than ${MAX_TAGS_PER_PEER} tags`)
        peer.tags.set(name, tag)
        break
      }
      case 5: {
        const keyBytes = r.bytes(wire, MAX_PUBLIC_KEY_LENGTH)
        try {
          peer.publicKey = publicKeyFromProtobuf(keyBytes)
        } catch (err) {
          throw new InvalidMessageError(`stored public key is invalid: ${(err as Error).message}`, { cause: err })
        }
        break
      }
      case 6: peer.peerRecordEnvelope = r.bytes(wire, MAX_ENVELOPE_LENGTH).slice(); break
      case 7: peer.peerRecordSeq = r.uint64(wire); break
      case 8: peer.updated = r.uint(wire); break
      default: r.skip(wire)
    }
  }
  // Keep the invariant the rest of the store relies on, whatever the file says.
  peer.protocols = [...new Set(peer.protocols)].sort(compareKeys)
  return peer
}

function decodeAddress (bytes: Uint8Array): StoredAddress {
  const r = new ProtobufReader(bytes)
  let addr: Multiaddr | undefined
  let isCertified = false
  let expires: number | undefined
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) {
      const raw = r.bytes(wire, MAX_MULTIADDR_LENGTH)
      try {
        addr = multiaddr(raw.slice())
      } catch (err) {
        throw new InvalidMessageError(`stored multiaddr is invalid: ${(err as Error).message}`, { cause: err })
      }
    } else if (field === 2) {
      isCertified = r.bool(wire)
    } else if (field === 3) {
      expires = r.uint(wire)
    } else {
      r.skip(wire)
    }
  }
  if (addr === undefined) throw new InvalidMessageError('stored address without a multiaddr')
  return expires === undefined ? { multiaddr: addr, isCertified } : { multiaddr: addr, isCertified, expires }
}

function decodeMetadata (bytes: Uint8Array): [string, Uint8Array] {
  const r = new ProtobufReader(bytes)
  let key: string | undefined
  let value: Uint8Array = new Uint8Array(0)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) key = r.string(wire, MAX_METADATA_KEY_LENGTH)
    else if (field === 2) value = r.bytes(wire, MAX_METADATA_VALUE_LENGTH).slice()
    else r.skip(wire)
  }
  if (key === undefined) throw new InvalidMessageError('stored metadata entry without a key')
  return [key, value]
}

function decodeTag (bytes: Uint8Array): [string, Tag] {
  const r = new ProtobufReader(bytes)
  let name: string | undefined
  let value = 0
  let expires: number | undefined
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) name = r.string(wire, MAX_TAG_NAME_LENGTH)
    else if (field === 2) value = r.uint(wire)
    else if (field === 3) expires = r.uint(wire)
    else r.skip(wire)
  }
  if (name === undefined) throw new InvalidMessageError('stored tag without a name')
  if (value > 100) throw new InvalidMessageError('stored tag value above 100')
  return [name, expires === undefined ? { value } : { value, expires }]
}

