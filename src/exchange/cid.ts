/**
 * CIDs of blocks (multiformats' CID type): the codecs and hash this layer speaks (raw and
 * dag-pb, sha2-256, and the identity hash that inlines tiny blocks), making a CID for bytes,
 * verifying bytes against a CID without copying them, and the CID prefix of Bitswap 1.1+
 * (`uvarint version, codec, multihash code, digest length`), from which a receiver recomputes a
 * block's CID out of its bytes.
 */
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from '../crypto/index.ts'
import { equalBytes } from '../util/bytes.ts'
import { InvalidMessageError } from '../util/errors.ts'
import { decodeVarint, encodeVarintInto, varintLength } from '../util/varint.ts'
import { BlockHashMismatchError, UnsupportedCidError } from './errors.ts'

export { CID }

export const CODEC_RAW = 0x55
export const CODEC_DAG_PB = 0x70
export const HASH_SHA2_256 = 0x12
export const HASH_IDENTITY = 0x00
/** Longest identity-hashed (inline) block accepted: the CID is the block, so keep it small. */
export const MAX_IDENTITY_DIGEST = 128

/** The CID of `bytes` under sha2-256; CIDv0 only exists for dag-pb. */
export function cidOf (bytes: Uint8Array, codec: number, version: 0 | 1): CID {
  const digest = Digest.create(HASH_SHA2_256, sha256(bytes))
  if (version === 0) {
    if (codec !== CODEC_DAG_PB) throw new UnsupportedCidError('CIDv0 is dag-pb only')
    return CID.createV0(digest as Digest.Digest<typeof HASH_SHA2_256, number>)
  }
  return CID.createV1(codec, digest)
}

/** Throws unless this layer can verify and decode blocks of `cid`. */
export function checkSupported (cid: CID): void {
  if (cid.code !== CODEC_RAW && cid.code !== CODEC_DAG_PB) throw new UnsupportedCidError(`codec 0x${cid.code.toString(16)} is not supported (raw and dag-pb are)`)
  const hash = cid.multihash.code
  if (hash === HASH_SHA2_256 && cid.multihash.size === 32) return
  if (hash === HASH_IDENTITY && cid.multihash.size <= MAX_IDENTITY_DIGEST) return
  throw new UnsupportedCidError(`multihash 0x${hash.toString(16)} of ${cid.multihash.size} bytes is not supported (sha2-256 is)`)
}

/** Whether `bytes` hash to `cid` (no copy of the bytes is made). */
export function blockMatches (cid: CID, bytes: Uint8Array): boolean {
  const mh = cid.multihash
  if (mh.code === HASH_SHA2_256) return mh.size === 32 && equalBytes(sha256(bytes), mh.digest)
  if (mh.code === HASH_IDENTITY) return equalBytes(bytes, mh.digest)
  return false
}

/** Throws BlockHashMismatchError (or UnsupportedCidError) unless `bytes` hash to `cid`. */
export function verifyBlock (cid: CID, bytes: Uint8Array): void {
  checkSupported(cid)
  if (!blockMatches(cid, bytes)) throw new BlockHashMismatchError(`block of ${bytes.length} bytes does not hash to ${cid.toString()}`)
}

/** Bitswap 1.1's CID prefix of `cid`: version, codec, multihash code and digest length. */
export function cidPrefix (cid: CID): Uint8Array {
  const fields = [cid.version, cid.code, cid.multihash.code, cid.multihash.size]
  const out = new Uint8Array(fields.reduce((n, f) => n + varintLength(f), 0))
  let offset = 0
  for (const f of fields) offset = encodeVarintInto(f, out, offset)
  return out
}

/**
 * The CID of a block received with a Bitswap 1.1 prefix, computed from its bytes (which is what
 * verifies it: a block is only accepted when this CID is one we want).
 */
export function cidFromPrefix (prefix: Uint8Array, bytes: Uint8Array): CID {
  const fields: number[] = []
  let offset = 0
  while (offset < prefix.length && fields.length < 4) {
    const r = decodeVarint(prefix, offset)
    if (r === undefined) throw new InvalidMessageError('truncated CID prefix')
    fields.push(r[0])
    offset += r[1]
  }
  if (fields.length !== 4 || offset !== prefix.length) throw new InvalidMessageError('a CID prefix has four varints')
  const [version, codec, hash, length] = fields
  if (version !== 0 && version !== 1) throw new UnsupportedCidError(`CID version ${version}`)
  if (version === 0 && (codec !== CODEC_DAG_PB || hash !== HASH_SHA2_256)) throw new UnsupportedCidError('CIDv0 prefix must be dag-pb sha2-256')
  if (codec !== CODEC_RAW && codec !== CODEC_DAG_PB) throw new UnsupportedCidError(`codec 0x${codec.toString(16)} is not supported`)
  let digest: Digest.Digest<number, number>
  if (hash === HASH_SHA2_256 && length === 32) {
    digest = Digest.create(HASH_SHA2_256, sha256(bytes))
  } else if (hash === HASH_IDENTITY && length === bytes.length && length <= MAX_IDENTITY_DIGEST) {
    digest = Digest.create(HASH_IDENTITY, bytes.slice())
  } else {
    throw new UnsupportedCidError(`multihash 0x${hash.toString(16)} of ${length} bytes is not supported`)
  }
  return version === 0 ? CID.createV0(digest as Digest.Digest<typeof HASH_SHA2_256, number>) : CID.createV1(codec, digest)
}

/** Parses CID bytes as they appear in Bitswap wantlists and presences, as a typed error when malformed. */
export function decodeCid (bytes: Uint8Array): CID {
  try {
    // a copy: a CID kept in a wantlist must not pin the whole received message
    return CID.decode(bytes.slice())
  } catch (err) {
    throw new InvalidMessageError(`invalid CID: ${(err as Error).message}`)
  }
}

/** Parses a CID's text form (base58btc CIDv0, multibase CIDv1) with a typed error. */
export function parseCid (text: string): CID {
  try {
    return CID.parse(text)
  } catch (err) {
    throw new InvalidMessageError(`invalid CID '${text.slice(0, 100)}': ${(err as Error).message}`)
  }
}
