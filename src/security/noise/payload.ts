/**
 * The libp2p handshake payload carried (encrypted) in Noise messages B and C:
 *
 *   NoiseHandshakePayload { identity_key = 1, identity_sig = 2, extensions = 4 }
 *   NoiseExtensions { webtransport_certhashes = 1 (repeated bytes), stream_muxers = 2 (repeated string) }
 *
 * Encoding writes fields in tag order; decoding is bounded and skips unknown fields.
 */
import { ProtobufReader, ProtobufWriter, pushBounded } from '../../util/protobuf.ts'
import { utf8Encode } from '../../util/bytes.ts'

export interface NoiseExtensions {
  webtransportCerthashes: Uint8Array[]
  streamMuxers: string[]
}

export interface NoiseHandshakePayload {
  /** PublicKey protobuf bytes. */
  identityKey: Uint8Array
  identitySig: Uint8Array
  extensions?: NoiseExtensions
}

/** The string the identity key signs, followed by the static X25519 public key. */
export const STATIC_KEY_SIGNATURE_PREFIX = utf8Encode('noise-libp2p-static-key:')

const MAX_KEY_LENGTH = 8 * 1024
const MAX_SIGNATURE_LENGTH = 2 * 1024
const MAX_CERTHASHES = 16
const MAX_CERTHASH_LENGTH = 128
const MAX_MUXERS = 32
const MAX_MUXER_LENGTH = 256

export function encodeExtensions (ext: NoiseExtensions): Uint8Array {
  const w = new ProtobufWriter()
  for (const hash of ext.webtransportCerthashes) w.bytes(1, hash)
  for (const muxer of ext.streamMuxers) w.string(2, muxer)
  return w.finish()
}

export function encodeHandshakePayload (payload: NoiseHandshakePayload): Uint8Array {
  const w = new ProtobufWriter(payload.identityKey.length + payload.identitySig.length + 64)
  w.bytes(1, payload.identityKey)
  w.bytes(2, payload.identitySig)
  const ext = payload.extensions
  if (ext !== undefined && (ext.webtransportCerthashes.length > 0 || ext.streamMuxers.length > 0)) {
    w.bytes(4, encodeExtensions(ext))
  }
  return w.finish()
}

export function decodeExtensions (bytes: Uint8Array): NoiseExtensions {
  const ext: NoiseExtensions = { webtransportCerthashes: [], streamMuxers: [] }
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) pushBounded(ext.webtransportCerthashes, r.bytes(wire, MAX_CERTHASH_LENGTH).slice(), MAX_CERTHASHES, 'certhashes')
    else if (field === 2) pushBounded(ext.streamMuxers, r.string(wire, MAX_MUXER_LENGTH), MAX_MUXERS, 'stream muxers')
    else r.skip(wire)
  }
  return ext
}

/** Throws InvalidMessageError for malformed input; missing key or signature decode as empty. */
export function decodeHandshakePayload (bytes: Uint8Array): NoiseHandshakePayload {
  let identityKey = new Uint8Array(0)
  let identitySig = new Uint8Array(0)
  let extensions: NoiseExtensions | undefined
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) identityKey = r.bytes(wire, MAX_KEY_LENGTH).slice()
    else if (field === 2) identitySig = r.bytes(wire, MAX_SIGNATURE_LENGTH).slice()
    else if (field === 4) extensions = decodeExtensions(r.bytes(wire))
    else r.skip(wire)
  }
  return { identityKey, identitySig, extensions }
}
