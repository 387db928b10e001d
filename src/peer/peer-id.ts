/**
 * Peer ids (peer-ids spec): the multihash of a peer's PublicKey protobuf, inlined with the
 * identity hash when that protobuf is at most 42 bytes (Ed25519, secp256k1), sha2-256 otherwise
 * (RSA, ECDSA). Text forms: bare base58btc (`12D3KooW...`, `16Uiu2...`, `Qm...`, the default
 * display) and CIDv1 with the `libp2p-key` codec in any multibase (`bafz...`, base32 by default).
 * Every parser here treats its input as hostile and throws InvalidPeerIdError.
 */
import type { KeyType, PublicKey } from '../interface/keys.ts'
import type { PeerId } from '../interface/peer-id.ts'
import { equalBytes } from '../util/bytes.ts'
import { InvalidPeerIdError } from '../util/errors.ts'
import { publicKeyFromRaw, sha256 } from '../crypto/index.ts'
import type { PrivateKey } from '../crypto/index.ts'
import { decodeKeyProtobuf, encodeKeyProtobuf } from '../crypto/key-protobuf.ts'
import { base32Lower, base58btc, decodeMultibase } from './multibase.ts'

const IDENTITY_CODE = 0x00
const SHA2_256_CODE = 0x12
const SHA2_256_LENGTH = 32
/** Serialized public keys up to this size are inlined (identity multihash). */
export const MAX_INLINE_KEY_LENGTH = 42
const LIBP2P_KEY_CODEC = 0x72
const CID_VERSION_1 = 0x01
/** Far above any real peer id text (a base2 CID of a sha2-256 id is 313 characters). */
const MAX_PEER_ID_STRING_LENGTH = 512

const peerIdSymbol = Symbol.for('ts-libp2p/peer-id')

class PeerIdImpl implements PeerId {
  readonly type: KeyType | 'unknown'
  readonly bytes: Uint8Array
  #publicKey: PublicKey | undefined
  /** The inlined key's Data field, for identity multihashes whose key is built on demand. */
  readonly #inlineKeyData: Uint8Array | undefined
  #string: string | undefined

  constructor (bytes: Uint8Array, type: KeyType | 'unknown', publicKey?: PublicKey, inlineKeyData?: Uint8Array) {
    this.bytes = bytes
    this.type = type
    this.#publicKey = publicKey
    this.#inlineKeyData = inlineKeyData
  }

  get [peerIdSymbol] (): true { return true }

  get publicKey (): PublicKey | undefined {
    if (this.#publicKey === undefined && this.#inlineKeyData !== undefined && this.type !== 'unknown') {
      // Validated when the id was parsed, so this cannot throw.
      this.#publicKey = publicKeyFromRaw(this.type, this.#inlineKeyData)
    }
    return this.#publicKey
  }

  toString (): string {
    this.#string ??= base58btc.baseEncode(this.bytes)
    return this.#string
  }

  toCID (): string {
    const cid = new Uint8Array(2 + this.bytes.length)
    cid[0] = CID_VERSION_1
    cid[1] = LIBP2P_KEY_CODEC
    cid.set(this.bytes, 2)
    return base32Lower.encode(cid)
  }

  toJSON (): string {
    return this.toString()
  }

  equals (other: PeerId | Uint8Array | string | undefined | null): boolean {
    if (other == null) return false
    if (other instanceof Uint8Array) return equalBytes(this.bytes, other)
    if (typeof other === 'string') {
      if (other === this.toString()) return true
      try {
        return equalBytes(this.bytes, peerIdFromString(other).bytes)
      } catch {
        return false
      }
    }
    return other.bytes instanceof Uint8Array && equalBytes(this.bytes, other.bytes)
  }

  get [Symbol.toStringTag] (): string {
    return `PeerId(${this.toString()})`
  }

  [Symbol.for('nodejs.util.inspect.custom')] (): string {
    return `PeerId(${this.toString()})`
  }
}

export function isPeerId (value: unknown): value is PeerId {
  return value != null && typeof value === 'object' && (value as Record<symbol, unknown>)[peerIdSymbol] === true
}

export function peerIdFromPublicKey (key: PublicKey): PeerId {
  const protobuf = key.toProtobuf()
  let bytes: Uint8Array
  if (protobuf.length <= MAX_INLINE_KEY_LENGTH) {
    bytes = new Uint8Array(2 + protobuf.length)
    bytes[0] = IDENTITY_CODE
    bytes[1] = protobuf.length
    bytes.set(protobuf, 2)
  } else {
    bytes = new Uint8Array(2 + SHA2_256_LENGTH)
    bytes[0] = SHA2_256_CODE
    bytes[1] = SHA2_256_LENGTH
    bytes.set(sha256(protobuf), 2)
  }
  return new PeerIdImpl(bytes, key.type, key)
}

export function peerIdFromPrivateKey (key: PrivateKey): PeerId {
  return peerIdFromPublicKey(key.publicKey)
}

/**
 * A peer id from its multihash bytes. Only identity (with a canonical, valid inlined key of at
 * most 42 bytes) and sha2-256 multihashes are peer ids. The bytes are copied.
 */
export function peerIdFromMultihash (multihash: Uint8Array): PeerId {
  if (!(multihash instanceof Uint8Array) || multihash.length < 2) throw new InvalidPeerIdError('peer id multihash is too short')
  const code = multihash[0]
  const length = multihash[1]
  // Both codes and every legal length are below 0x80, so each varint is exactly one byte.
  if (length >= 0x80 || multihash.length !== 2 + length) throw new InvalidPeerIdError('peer id multihash length does not match its digest')
  if (code === SHA2_256_CODE) {
    if (length !== SHA2_256_LENGTH) throw new InvalidPeerIdError('sha2-256 peer id must have a 32-byte digest')
    return new PeerIdImpl(multihash.slice(), 'unknown')
  }
  if (code !== IDENTITY_CODE) throw new InvalidPeerIdError(`unsupported peer id multihash code 0x${code.toString(16)}`)
  if (length > MAX_INLINE_KEY_LENGTH) throw new InvalidPeerIdError('identity peer id inlines more than 42 bytes')
  const bytes = multihash.slice()
  const inline = bytes.subarray(2)
  let type: KeyType
  let data: Uint8Array
  try {
    ({ type, data } = decodeKeyProtobuf(inline))
    if (!equalBytes(encodeKeyProtobuf(type, data), inline)) throw new InvalidPeerIdError('inlined public key is not canonically encoded')
    // Builds (and so validates) the key once; Ed25519 keys are cheap, secp256k1 needs its point checked.
    const key = publicKeyFromRaw(type, data)
    return new PeerIdImpl(bytes, type, type === 'Ed25519' ? undefined : key, data)
  } catch (err) {
    if (err instanceof InvalidPeerIdError) throw err
    throw new InvalidPeerIdError(`identity peer id holds an invalid public key: ${(err as Error).message}`, { cause: err })
  }
}

/** Alias of peerIdFromMultihash: a peer id's binary form is its multihash. */
export const peerIdFromBytes = peerIdFromMultihash

/** Parses a bare base58btc multihash or a multibase CIDv1 `libp2p-key`. */
export function peerIdFromString (text: string): PeerId {
  if (typeof text !== 'string' || text.length === 0) throw new InvalidPeerIdError('empty peer id')
  if (text.length > MAX_PEER_ID_STRING_LENGTH) throw new InvalidPeerIdError('peer id string is too long')
  let bytes: Uint8Array | undefined
  try {
    bytes = text[0] === '1' || text[0] === 'Q' ? base58btc.baseDecode(text) : decodeMultibase(text)
  } catch (err) {
    throw new InvalidPeerIdError(`peer id is not valid ${text[0] === '1' || text[0] === 'Q' ? 'base58btc' : 'multibase'}`, { cause: err })
  }
  if (bytes === undefined) throw new InvalidPeerIdError('peer id is neither base58btc nor a multibase CID')
  if (text[0] === '1' || text[0] === 'Q') return peerIdFromMultihash(bytes)
  return peerIdFromCIDBytes(bytes)
}

/** A peer id from binary CIDv1 `libp2p-key` bytes. */
export function peerIdFromCIDBytes (cid: Uint8Array): PeerId {
  if (cid.length < 2 || cid[0] !== CID_VERSION_1) throw new InvalidPeerIdError('peer id CID must be CIDv1')
  if (cid[1] !== LIBP2P_KEY_CODEC) throw new InvalidPeerIdError('peer id CID must use the libp2p-key codec (0x72)')
  return peerIdFromMultihash(cid.subarray(2))
}
