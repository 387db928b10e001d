import { describe, it } from 'node:test'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import assert from 'node:assert/strict'
import { privateKeyFromProtobuf, publicKeyFromProtobuf, publicKeyFromRaw, privateKeyFromRaw, randomBytes, type KeyType, type RsaPublicKey } from '../../src/crypto/index.ts'
import { decodeKeyProtobuf, encodeKeyProtobuf, MAX_KEY_DATA_LENGTH } from '../../src/crypto/key-protobuf.ts'
import { DerReader, TAG_INTEGER, TAG_SEQUENCE, derEncode, derUnsignedInteger, derBitString, TAG_OID, TAG_NULL } from '../../src/crypto/der.ts'
import { fromHex } from '../../src/util/bytes.ts'
import { InvalidKeyError } from '../../src/util/errors.ts'
import { SPEC_KEY_VECTORS as V } from './spec-vectors.ts'
import { GO_KEY_VECTORS as G } from './go-vectors.ts'

const TYPES: KeyType[] = ['Ed25519', 'secp256k1', 'ECDSA', 'RSA']

/** Runs `fn`; it may succeed, but if it throws, the error must be an InvalidKeyError. */
function onlyTypedErrors (fn: () => unknown, what: string): void {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof InvalidKeyError, `${what}: ${String(err)}`)
  }
}

function rsaSpki (modulusBits: number): Uint8Array {
  const modulus = randomBytes(Math.ceil(modulusBits / 8))
  modulus[0] |= 0x80
  const rsaOid = fromHex('2a864886f70d010101')
  return derEncode(TAG_SEQUENCE,
    derEncode(TAG_SEQUENCE, derEncode(TAG_OID, rsaOid), Uint8Array.of(TAG_NULL, 0)),
    derBitString(derEncode(TAG_SEQUENCE, derUnsignedInteger(modulus), derUnsignedInteger(Uint8Array.of(1, 0, 1)))))
}

describe('key protobuf decoding of hostile input', () => {
  it('rejects missing fields, unknown types, wrong wire types and oversized data', () => {
    const cases = [
      new Uint8Array(0),
      Uint8Array.of(0x08, 0x01),
      Uint8Array.of(0x12, 0x00),
      Uint8Array.of(0x08, 0x07, 0x12, 0x00),
      Uint8Array.of(0x08, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x00),
      Uint8Array.of(0x0a, 0x01, 0x01, 0x12, 0x00),
      Uint8Array.of(0x08, 0x01, 0x12, 0x20),
      Uint8Array.of(0x08, 0x01, 0x12, 0xff, 0xff, 0xff, 0xff, 0x0f),
      Uint8Array.of(0x08, 0x01, 0x12),
      Uint8Array.of(0x00, 0x01),
      encodeKeyProtobuf('RSA', new Uint8Array(MAX_KEY_DATA_LENGTH + 1))
    ]
    for (const bytes of cases) assert.throws(() => decodeKeyProtobuf(bytes), InvalidKeyError)
  })

  it('tolerates field order and unknown fields like go, and re-encodes canonically', () => {
    const key = publicKeyFromProtobuf(fromHex(V.ed25519Public))
    const reordered = Uint8Array.of(0x12, 0x20, ...key.raw, 0x18, 0x05, 0x08, 0x01)
    assert.ok(publicKeyFromProtobuf(reordered).equals(key))
    assert.deepEqual(publicKeyFromProtobuf(reordered).toProtobuf(), fromHex(V.ed25519Public))
  })

  it('truncations, bit flips and random bytes give InvalidKeyError or a valid key, never anything else', () => {
    const vectors = [V.ed25519Private, V.secp256k1Private, V.ecdsaPrivate, G.rsa.priv]
    const publics = [V.ed25519Public, V.secp256k1Public, V.ecdsaPublic, V.rsaPublic, G.rsa.pub, G.ecdsa.pub, G.secp256k1.pub]
    for (const [hexes, decode] of [[vectors, privateKeyFromProtobuf], [publics, publicKeyFromProtobuf]] as const) {
      for (const hex of hexes) {
        const bytes = fromHex(hex)
        // every truncation of small keys, a sample of the large ones
        const step = bytes.length > 200 ? 37 : 1
        for (let i = 0; i < bytes.length; i += step) onlyTypedErrors(() => decode(bytes.subarray(0, i)), `truncated at ${i}`)
        for (let i = 0; i < Math.min(bytes.length * 8, 2000); i += (bytes.length > 200 ? 13 : 1)) {
          const flipped = bytes.slice()
          flipped[i >> 3] ^= 1 << (i & 7)
          onlyTypedErrors(() => decode(flipped), `bit ${i} flipped`)
        }
      }
    }
    for (let i = 0; i < 300; i++) {
      for (const type of TYPES) {
        const raw = randomBytes(i % 130)
        onlyTypedErrors(() => publicKeyFromRaw(type, raw), `random ${type} public`)
        onlyTypedErrors(() => privateKeyFromRaw(type, raw), `random ${type} private`)
      }
      onlyTypedErrors(() => publicKeyFromProtobuf(randomBytes(i)), 'random protobuf')
      onlyTypedErrors(() => privateKeyFromProtobuf(randomBytes(i)), 'random protobuf')
    }
  })

  it('random DER-looking RSA and ECDSA keys give InvalidKeyError', () => {
    for (let i = 0; i < 200; i++) {
      const junk = Uint8Array.of(0x30, 0x82, 0x01, 0x00, ...randomBytes(i))
      for (const type of ['ECDSA', 'RSA'] as const) {
        onlyTypedErrors(() => publicKeyFromRaw(type, junk), `${type} public`)
        onlyTypedErrors(() => privateKeyFromRaw(type, junk), `${type} private`)
      }
    }
  })
})

describe('RSA size limits', () => {
  it('accepts 1024..8192-bit moduli and rejects larger and smaller ones before any arithmetic', () => {
    assert.equal((publicKeyFromRaw('RSA', rsaSpki(8192)) as RsaPublicKey).bits, 8192)
    assert.equal((publicKeyFromRaw('RSA', rsaSpki(1024)) as RsaPublicKey).bits, 1024)
    assert.throws(() => publicKeyFromRaw('RSA', rsaSpki(8200)), InvalidKeyError)
    assert.throws(() => publicKeyFromRaw('RSA', rsaSpki(16384)), InvalidKeyError)
    assert.throws(() => publicKeyFromRaw('RSA', rsaSpki(512)), InvalidKeyError)
  })

  it('an oversized key in a protobuf is refused', () => {
    assert.throws(() => publicKeyFromProtobuf(encodeKeyProtobuf('RSA', rsaSpki(16384))), InvalidKeyError)
  })
})

describe('ECDSA and secp256k1 specifics', () => {
  it('rejects compressed ECDSA points and off-curve points', () => {
    const pub = publicKeyFromProtobuf(fromHex(V.ecdsaPublic)).raw
    const offCurve = pub.slice()
    offCurve[offCurve.length - 1] ^= 1
    assert.throws(() => publicKeyFromRaw('ECDSA', offCurve), InvalidKeyError)
  })

  it('rejects a SEC1 key whose embedded public key does not match', () => {
    const priv = fromHex(V.ecdsaPrivate).subarray(4)
    const bad = priv.slice()
    bad[bad.length - 1] ^= 1
    assert.throws(() => privateKeyFromRaw('ECDSA', bad), InvalidKeyError)
  })

  it('normalises an uncompressed secp256k1 public key to the compressed form', () => {
    const pub = publicKeyFromProtobuf(fromHex(V.secp256k1Public))
    const uncompressed = secp256k1.Point.fromBytes(pub.raw).toBytes(false)
    const normalised = publicKeyFromRaw('secp256k1', uncompressed)
    assert.equal(normalised.raw.length, 33)
    assert.ok(normalised.equals(pub))
    assert.deepEqual(normalised.toProtobuf(), fromHex(V.secp256k1Public))
    assert.throws(() => publicKeyFromRaw('secp256k1', new Uint8Array(33)), InvalidKeyError)
    assert.throws(() => privateKeyFromRaw('secp256k1', new Uint8Array(32)), InvalidKeyError)
    assert.throws(() => privateKeyFromRaw('secp256k1', new Uint8Array(32).fill(0xff)), InvalidKeyError)
  })
})

describe('DER reader', () => {
  it('refuses indefinite, non-minimal, overlong and overrunning lengths', () => {
    const bad = [
      Uint8Array.of(0x30, 0x80, 0x00, 0x00),
      Uint8Array.of(0x30, 0x81, 0x05, 1, 2, 3, 4, 5),
      Uint8Array.of(0x30, 0x82, 0x00, 0x81, ...new Uint8Array(0x81)),
      Uint8Array.of(0x30, 0x85, 1, 0, 0, 0, 0),
      Uint8Array.of(0x30, 0x05, 1),
      Uint8Array.of(0x30),
      Uint8Array.of(0x02, 0x02, 0x00, 0x01),
      Uint8Array.of(0x02, 0x01, 0x80),
      Uint8Array.of(0x02, 0x00)
    ]
    for (const bytes of bad) {
      assert.throws(() => {
        const r = new DerReader(bytes)
        if (bytes[0] === TAG_INTEGER) r.readUnsignedInteger()
        else r.read(TAG_SEQUENCE)
      }, InvalidKeyError)
    }
  })
})
