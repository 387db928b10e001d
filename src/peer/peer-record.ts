/**
 * Peer records (RFC 0003 as go and js implement it): a peer's addresses with a sequence number,
 * signed into an envelope so that other peers can pass them on without being trusted.
 * Domain `libp2p-peer-record`, payload type the two bytes `03 01` (multicodec 0x0301 written
 * big-endian, not as a varint); wire form `PeerRecord{peer_id=1, seq=2, addresses=3
 * [AddressInfo{multiaddr=1}]}`. A newer record replaces an older one by a larger `seq`, which
 * is why sequence numbers are time-based and strictly increasing within the process.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { PrivateKey } from '../interface/keys.ts'
import type { PeerId } from '../interface/peer-id.ts'
import { equalBytes, utf8Encode } from '../util/bytes.ts'
import { InvalidMessageError, InvalidParametersError, Libp2pError, UnexpectedPeerError } from '../util/errors.ts'
import { ProtobufReader, ProtobufWriter, pushBounded } from '../util/protobuf.ts'
import { decodeEnvelope, openAndVerify, seal, MAX_ENVELOPE_SIZE, type Envelope, type EnvelopeRecord } from './envelope.ts'
import { peerIdFromMultihash, peerIdFromPrivateKey, peerIdFromPublicKey } from './peer-id.ts'

export const PEER_RECORD_DOMAIN = 'libp2p-peer-record'
export const PEER_RECORD_CODEC: Uint8Array = Uint8Array.of(0x03, 0x01)
/**
 * rust-libp2p's own pre-RFC names, which its identify and rendezvous still sign with (0.57.1,
 * rust-libp2p issue 6204). Recognised only to say so in the error: never accepted.
 */
export const LEGACY_ROUTING_STATE_DOMAIN = 'libp2p-routing-state'
export const LEGACY_ROUTING_STATE_TYPE: Uint8Array = utf8Encode('/libp2p/routing-state-record')

/** An envelope in rust-libp2p's legacy routing-state form instead of a peer record. */
export class LegacyPeerRecordError extends Libp2pError {
  static readonly code = 'ERR_LEGACY_PEER_RECORD'
  constructor (message: string) {
    super(message, LegacyPeerRecordError.code)
    this.name = 'LegacyPeerRecordError'
  }
}

/** More addresses than any real host has; bounds hostile records. */
export const MAX_PEER_RECORD_ADDRESSES = 1024
/** A binary multiaddr longer than this is not an address anyone dials. */
const MAX_MULTIADDR_LENGTH = 1024

const FIELD_PEER_ID = 1
const FIELD_SEQ = 2
const FIELD_ADDRESSES = 3
const FIELD_ADDRESS_MULTIADDR = 1

export interface PeerRecord {
  peerId: PeerId
  seq: bigint
  multiaddrs: Multiaddr[]
}

let lastSeq = 0n

/** The current time in milliseconds, bumped past the last value this process handed out. */
export function nextPeerRecordSeq (): bigint {
  const now = BigInt(Date.now())
  lastSeq = now > lastSeq ? now : lastSeq + 1n
  return lastSeq
}

export function createPeerRecord (init: { peerId: PeerId, multiaddrs: Multiaddr[], seq?: bigint }): PeerRecord {
  const seq = init.seq ?? nextPeerRecordSeq()
  if (seq < 0n || seq > 0xffffffffffffffffn) throw new InvalidParametersError('peer record seq must fit an unsigned 64-bit integer')
  return { peerId: init.peerId, seq, multiaddrs: [...init.multiaddrs] }
}

export function encodePeerRecord (record: PeerRecord): Uint8Array {
  const w = new ProtobufWriter(64 + record.multiaddrs.length * 32)
  w.bytes(FIELD_PEER_ID, record.peerId.bytes)
  // proto3 leaves out a zero seq; go does too.
  if (record.seq !== 0n) w.uint64(FIELD_SEQ, record.seq)
  for (const addr of record.multiaddrs) {
    const bytes = addr.bytes
    const inner = new ProtobufWriter(bytes.length + 4).bytes(FIELD_ADDRESS_MULTIADDR, bytes).finish()
    w.bytes(FIELD_ADDRESSES, inner)
  }
  return w.finish().slice()
}

/**
 * Decodes a PeerRecord. Addresses that do not parse as multiaddrs (e.g. protocols this build
 * does not know) are dropped rather than failing the record: the rest are still certified.
 */
export function decodePeerRecord (bytes: Uint8Array): PeerRecord {
  let peerIdBytes: Uint8Array | undefined
  let seq = 0n
  const multiaddrs: Multiaddr[] = []
  const r = new ProtobufReader(bytes)
  let addressCount = 0
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === FIELD_PEER_ID) {
      peerIdBytes = r.bytes(wire)
    } else if (field === FIELD_SEQ) {
      seq = r.uint64(wire)
    } else if (field === FIELD_ADDRESSES) {
      if (++addressCount > MAX_PEER_RECORD_ADDRESSES) throw new InvalidMessageError(`peer record has more than ${MAX_PEER_RECORD_ADDRESSES} addresses`)
      const addr = decodeAddressInfo(r.bytes(wire))
      if (addr !== undefined) pushBounded(multiaddrs, addr, MAX_PEER_RECORD_ADDRESSES, 'addresses')
    } else {
      r.skip(wire)
    }
  }
  if (peerIdBytes === undefined) throw new InvalidMessageError('peer record has no peer id')
  return { peerId: peerIdFromMultihash(peerIdBytes), seq, multiaddrs }
}

function decodeAddressInfo (bytes: Uint8Array): Multiaddr | undefined {
  let addrBytes: Uint8Array | undefined
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === FIELD_ADDRESS_MULTIADDR) addrBytes = r.bytes(wire, MAX_MULTIADDR_LENGTH)
    else r.skip(wire)
  }
  if (addrBytes === undefined || addrBytes.length === 0) return undefined
  try {
    return multiaddr(addrBytes.slice())
  } catch {
    return undefined
  }
}

/** A peer record as something `seal` can sign. */
export function peerRecordToEnvelopeRecord (record: PeerRecord): EnvelopeRecord {
  return { domain: PEER_RECORD_DOMAIN, codec: PEER_RECORD_CODEC, marshal: () => encodePeerRecord(record) }
}

/** Signs our addresses: returns the envelope bytes to hand out (identify, DHT, rendezvous). */
export async function createSignedPeerRecord (privateKey: PrivateKey, multiaddrs: Multiaddr[], options: { seq?: bigint } = {}): Promise<Uint8Array> {
  const record = createPeerRecord({ peerId: peerIdFromPrivateKey(privateKey), multiaddrs, seq: options.seq })
  return await seal(privateKey, peerRecordToEnvelopeRecord(record))
}

export interface ConsumedPeerRecord extends PeerRecord {
  envelope: Envelope
}

/**
 * Verifies signed peer record envelope bytes: the signature (for the peer-record domain), the
 * payload type, and that the signing key is the record's peer id. With `expectedPeer`, also
 * that the record is about that peer. Throws typed errors (InvalidSignatureError,
 * InvalidMessageError, UnexpectedPeerError, InvalidKeyError, InvalidPeerIdError).
 */
export async function consumeSignedPeerRecord (bytes: Uint8Array, options: { expectedPeer?: PeerId, maxSize?: number } = {}): Promise<ConsumedPeerRecord> {
  const maxSize = options.maxSize ?? MAX_ENVELOPE_SIZE
  if (equalBytes(decodeEnvelope(bytes, maxSize).payloadType, LEGACY_ROUTING_STATE_TYPE)) await refuseLegacyRecord(bytes, maxSize)
  const envelope = await openAndVerify(bytes, PEER_RECORD_DOMAIN, maxSize)
  if (!equalBytes(envelope.payloadType, PEER_RECORD_CODEC)) throw new InvalidMessageError('envelope does not hold a peer record')
  const record = decodePeerRecord(envelope.payload)
  if (!peerIdFromPublicKey(envelope.publicKey).equals(record.peerId)) {
    throw new UnexpectedPeerError('peer record was signed by a key other than its peer id')
  }
  if (options.expectedPeer !== undefined && !record.peerId.equals(options.expectedPeer)) {
    throw new UnexpectedPeerError(`peer record is for ${record.peerId.toString()}, expected ${options.expectedPeer.toString()}`)
  }
  return { ...record, envelope }
}

/**
 * Names what a legacy routing-state envelope is signed for (checked, so the message is a fact
 * and not a guess from the payload type) and refuses it: RFC 0003 records are signed for
 * `libp2p-peer-record` with payload type 0x0301, and a signature for another domain is one the
 * signer never meant as a peer record.
 */
async function refuseLegacyRecord (bytes: Uint8Array, maxSize: number): Promise<never> {
  await openAndVerify(bytes, LEGACY_ROUTING_STATE_DOMAIN, maxSize)
  throw new LegacyPeerRecordError(`the envelope is signed for domain "${LEGACY_ROUTING_STATE_DOMAIN}" with payload type "/libp2p/routing-state-record" (rust-libp2p's legacy form, rust-libp2p#6204), not for "${PEER_RECORD_DOMAIN}" with payload type 0x0301`)
}
