/**
 * The key protobuf shared by PublicKey and PrivateKey messages (peer-ids spec):
 * `{ required KeyType Type = 1; required bytes Data = 2; }`. Encoding is canonical (both fields,
 * in tag order, `Type` written even when it is RSA = 0) because peer ids hash these bytes.
 * Decoding tolerates field order and unknown fields as go does, then callers re-encode.
 */
import type { KeyType } from '../interface/keys.ts'
import { InvalidKeyError, InvalidMessageError } from '../util/errors.ts'
import { ProtobufReader } from '../util/protobuf.ts'
import { encodeVarintInto, varintLength } from '../util/varint.ts'

/** The wire numbers of the KeyType enum. */
export const KEY_TYPE_CODES = { RSA: 0, Ed25519: 1, secp256k1: 2, ECDSA: 3 } as const satisfies Record<KeyType, number>

const KEY_TYPES_BY_CODE: readonly KeyType[] = ['RSA', 'Ed25519', 'secp256k1', 'ECDSA']

/** Room for an 8192-bit RSA PKCS#1 private key (about 4.7 KB) with a wide margin. */
export const MAX_KEY_DATA_LENGTH = 16384

export function encodeKeyProtobuf (type: KeyType, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + 1 + varintLength(data.length) + data.length)
  out[0] = 0x08
  out[1] = KEY_TYPE_CODES[type]
  out[2] = 0x12
  const offset = encodeVarintInto(data.length, out, 3)
  out.set(data, offset)
  return out
}

export interface DecodedKey {
  type: KeyType
  /** A view into the input bytes. */
  data: Uint8Array
}

export function decodeKeyProtobuf (bytes: Uint8Array): DecodedKey {
  let code: number | undefined
  let data: Uint8Array | undefined
  try {
    const reader = new ProtobufReader(bytes)
    while (!reader.done) {
      const [field, wire] = reader.tag()
      if (field === 1) code = reader.uint(wire)
      else if (field === 2) data = reader.bytes(wire, MAX_KEY_DATA_LENGTH)
      else reader.skip(wire)
    }
  } catch (err) {
    if (err instanceof InvalidMessageError) throw new InvalidKeyError(`invalid key protobuf: ${err.message}`, { cause: err })
    throw err
  }
  if (code === undefined) throw new InvalidKeyError('key protobuf has no Type')
  if (data === undefined) throw new InvalidKeyError('key protobuf has no Data')
  const type = KEY_TYPES_BY_CODE[code]
  if (type === undefined) throw new InvalidKeyError(`unsupported key type ${code}`)
  return { type, data }
}
