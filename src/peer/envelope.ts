/**
 * Signed envelopes (RFC 0002): a payload, its type, and a signature by a public key over
 * `uvarint(len(domain)) || domain || uvarint(len(type)) || type || uvarint(len(payload)) || payload`.
 * The domain is never sent; it separates uses of one key (a record signed for one domain cannot
 * be replayed in another). Wire form: `Envelope{public_key=1 (PublicKey message), payload_type=2,
 * payload=3, signature=5}` — field 4 is unused.
 */
import type { PrivateKey, PublicKey } from '../interface/keys.ts'
import { publicKeyFromProtobuf } from '../crypto/index.ts'
import { utf8Encode } from '../util/bytes.ts'
import { InvalidMessageError, InvalidParametersError, InvalidSignatureError, MessageTooLargeError } from '../util/errors.ts'
import { ProtobufReader, ProtobufWriter } from '../util/protobuf.ts'
import { encodeVarintInto, varintLength } from '../util/varint.ts'

/** Default bound on a whole envelope: far above a peer record with hundreds of addresses. */
export const MAX_ENVELOPE_SIZE = 64 * 1024
/** An 8192-bit RSA signature is 1024 bytes. */
const MAX_SIGNATURE_LENGTH = 1024
const MAX_PAYLOAD_TYPE_LENGTH = 64

const FIELD_PUBLIC_KEY = 1
const FIELD_PAYLOAD_TYPE = 2
const FIELD_PAYLOAD = 3
const FIELD_SIGNATURE = 5

export interface Envelope {
  publicKey: PublicKey
  payloadType: Uint8Array
  payload: Uint8Array
  signature: Uint8Array
}

/** Something that can be sealed into an envelope (a peer record, a relay voucher, ...). */
export interface EnvelopeRecord {
  /** The signature domain, e.g. `libp2p-peer-record`. */
  readonly domain: string
  /** The payload type, e.g. the bytes `03 01` for peer records. */
  readonly codec: Uint8Array
  marshal(): Uint8Array
}

/** The bytes a signature covers. */
export function envelopeSignatureData (domain: string, payloadType: Uint8Array, payload: Uint8Array): Uint8Array {
  const domainBytes = utf8Encode(domain)
  const out = new Uint8Array(
    varintLength(domainBytes.length) + domainBytes.length +
    varintLength(payloadType.length) + payloadType.length +
    varintLength(payload.length) + payload.length)
  let offset = 0
  for (const part of [domainBytes, payloadType, payload]) {
    offset = encodeVarintInto(part.length, out, offset)
    out.set(part, offset)
    offset += part.length
  }
  return out
}

export function encodeEnvelope (envelope: Envelope): Uint8Array {
  const w = new ProtobufWriter(256 + envelope.payload.length)
  w.bytes(FIELD_PUBLIC_KEY, envelope.publicKey.toProtobuf())
  // proto3 leaves out empty bytes fields; go does too, so the bytes match.
  if (envelope.payloadType.length > 0) w.bytes(FIELD_PAYLOAD_TYPE, envelope.payloadType)
  if (envelope.payload.length > 0) w.bytes(FIELD_PAYLOAD, envelope.payload)
  if (envelope.signature.length > 0) w.bytes(FIELD_SIGNATURE, envelope.signature)
  return w.finish().slice()
}

/**
 * Decodes an envelope without checking its signature (see openAndVerify). Byte fields are
 * views into `bytes`. Throws InvalidMessageError, MessageTooLargeError or InvalidKeyError.
 */
export function decodeEnvelope (bytes: Uint8Array, maxSize: number = MAX_ENVELOPE_SIZE): Envelope {
  if (bytes.length > maxSize) throw new MessageTooLargeError(`envelope of ${bytes.length} bytes exceeds ${maxSize}`)
  let publicKeyBytes: Uint8Array | undefined
  let payloadType: Uint8Array = new Uint8Array(0)
  let payload: Uint8Array = new Uint8Array(0)
  let signature: Uint8Array = new Uint8Array(0)
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    switch (field) {
      case FIELD_PUBLIC_KEY: publicKeyBytes = r.bytes(wire); break
      case FIELD_PAYLOAD_TYPE: payloadType = r.bytes(wire, MAX_PAYLOAD_TYPE_LENGTH); break
      case FIELD_PAYLOAD: payload = r.bytes(wire); break
      case FIELD_SIGNATURE: signature = r.bytes(wire, MAX_SIGNATURE_LENGTH); break
      default: r.skip(wire)
    }
  }
  if (publicKeyBytes === undefined) throw new InvalidMessageError('envelope has no public key')
  if (signature.length === 0) throw new InvalidMessageError('envelope has no signature')
  return { publicKey: publicKeyFromProtobuf(publicKeyBytes), payloadType, payload, signature }
}

/** Signs `payload` for `domain` and returns the envelope bytes. */
export async function sealEnvelope (privateKey: PrivateKey, domain: string, payloadType: Uint8Array, payload: Uint8Array): Promise<Uint8Array> {
  if (domain.length === 0) throw new InvalidParametersError('envelope domain must not be empty')
  const signature = await privateKey.sign(envelopeSignatureData(domain, payloadType, payload))
  return encodeEnvelope({ publicKey: privateKey.publicKey, payloadType, payload, signature })
}

/** Seals a record (its domain, codec and marshalled bytes) into envelope bytes. */
export async function seal (privateKey: PrivateKey, record: EnvelopeRecord): Promise<Uint8Array> {
  return await sealEnvelope(privateKey, record.domain, record.codec, record.marshal())
}

/**
 * Decodes envelope bytes and checks the signature for `domain`. Throws InvalidSignatureError
 * when it does not verify, and the decoding errors of decodeEnvelope.
 */
export async function openAndVerify (bytes: Uint8Array, domain: string, maxSize: number = MAX_ENVELOPE_SIZE): Promise<Envelope> {
  const envelope = decodeEnvelope(bytes, maxSize)
  const data = envelopeSignatureData(domain, envelope.payloadType, envelope.payload)
  if (!(await envelope.publicKey.verify(data, envelope.signature))) {
    throw new InvalidSignatureError(`envelope signature does not verify for domain "${domain}"`)
  }
  return envelope
}
