import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  generateKeyPair, generateKeyPairFromSeed, privateKeyFromProtobuf, privateKeyToProtobuf,
  publicKeyFromProtobuf, publicKeyToProtobuf, publicKeyFromRaw, privateKeyFromRaw, randomBytes, sha256,
  type KeyType
} from '../../src/crypto/index.ts'
import { fromHex, toHex } from '../../src/util/bytes.ts'
import { InvalidKeyError, InvalidParametersError } from '../../src/util/errors.ts'
import { SPEC_KEY_VECTORS as V } from './spec-vectors.ts'

const message = new TextEncoder().encode('Libp2p is the _best_!')

describe('spec key vectors (peer-ids.md)', () => {
  const pairs: Array<[KeyType, string, string]> = [
    ['Ed25519', V.ed25519Private, V.ed25519Public],
    ['secp256k1', V.secp256k1Private, V.secp256k1Public],
    ['ECDSA', V.ecdsaPrivate, V.ecdsaPublic],
    ['RSA', V.rsaPrivate, V.rsaPublic]
  ]
  for (const [type, privHex, pubHex] of pairs) {
    it(`${type}: decodes, re-encodes byte-exact, derives the public key, signs and verifies`, async () => {
      const priv = privateKeyFromProtobuf(fromHex(privHex))
      assert.equal(priv.type, type)
      assert.equal(toHex(privateKeyToProtobuf(priv)), privHex)
      assert.equal(toHex(priv.toProtobuf()), privHex)
      assert.equal(toHex(priv.publicKey.toProtobuf()), pubHex)
      const pub = publicKeyFromProtobuf(fromHex(pubHex))
      assert.equal(pub.type, type)
      assert.equal(toHex(publicKeyToProtobuf(pub)), pubHex)
      assert.ok(pub.equals(priv.publicKey))
      const sig = await priv.sign(message)
      assert.equal(await pub.verify(message, sig), true)
      assert.equal(await pub.verify(message.subarray(1), sig), false)
      const tampered = sig.slice()
      tampered[tampered.length - 1] ^= 1
      assert.equal(await pub.verify(message, tampered), false)
      assert.ok(privateKeyFromRaw(type, priv.raw).equals(priv))
      assert.ok(publicKeyFromRaw(type, pub.raw).equals(pub))
    })
  }

  it('writes RSA Type = 0 explicitly', () => {
    const pub = publicKeyFromProtobuf(fromHex(V.rsaPublic))
    assert.deepEqual([...pub.toProtobuf().subarray(0, 3)], [0x08, 0x00, 0x12])
  })
})

describe('Ed25519', () => {
  it('derives the perf server identity from the zero seed', () => {
    const key = generateKeyPairFromSeed('Ed25519', new Uint8Array(32))
    // RFC 8032 test 1 is a different seed; the zero-seed public key is a well-known constant.
    assert.equal(toHex(key.publicKey.raw), '3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29')
    assert.equal(key.raw.length, 64)
  })

  it('matches RFC 8032 test vector 1', () => {
    const key = generateKeyPairFromSeed('Ed25519', fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'))
    assert.equal(toHex(key.publicKey.raw), 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a')
    assert.equal(toHex(key.sign(new Uint8Array(0)) as Uint8Array),
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b')
  })

  it('accepts the legacy 96-byte private key and re-encodes it as 64 bytes', () => {
    const key = generateKeyPairFromSeed('Ed25519', randomBytes(32))
    const legacy = new Uint8Array(96)
    legacy.set(key.raw)
    legacy.set(key.publicKey.raw, 64)
    const decoded = privateKeyFromRaw('Ed25519', legacy)
    assert.ok(decoded.equals(key))
    assert.equal(decoded.raw.length, 64)
    const pb = decoded.toProtobuf()
    assert.deepEqual([...pb.subarray(0, 4)], [0x08, 0x01, 0x12, 0x40])
  })

  it('rejects a 96-byte key whose two public keys differ, and a 64-byte key with the wrong public key', () => {
    const key = generateKeyPairFromSeed('Ed25519', randomBytes(32))
    const other = generateKeyPairFromSeed('Ed25519', randomBytes(32))
    const legacy = new Uint8Array(96)
    legacy.set(key.raw)
    legacy.set(other.publicKey.raw, 64)
    assert.throws(() => privateKeyFromRaw('Ed25519', legacy), InvalidKeyError)
    const mismatched = key.raw.slice()
    mismatched.set(other.publicKey.raw, 32)
    assert.throws(() => privateKeyFromRaw('Ed25519', mismatched), InvalidKeyError)
  })

  it('rejects wrong lengths and seeds', () => {
    assert.throws(() => publicKeyFromRaw('Ed25519', new Uint8Array(31)), InvalidKeyError)
    assert.throws(() => privateKeyFromRaw('Ed25519', new Uint8Array(32)), InvalidKeyError)
    assert.throws(() => generateKeyPairFromSeed('Ed25519', new Uint8Array(31)), InvalidParametersError)
  })

  it('verify returns false for malformed signatures instead of throwing', async () => {
    const key = await generateKeyPair()
    for (const sig of [new Uint8Array(0), new Uint8Array(63), new Uint8Array(65), randomBytes(64)]) {
      assert.equal(key.publicKey.verify(message, sig), false)
    }
  })
})

describe('every key type', () => {
  for (const type of ['Ed25519', 'secp256k1', 'ECDSA', 'RSA'] as const) {
    it(`${type}: generate, sign, verify, protobuf round trip`, async () => {
      const key = await generateKeyPair(type)
      assert.equal(key.type, type)
      const sig = await key.sign(message)
      assert.equal(await key.publicKey.verify(message, sig), true)
      const again = privateKeyFromProtobuf(key.toProtobuf())
      assert.ok(again.equals(key))
      assert.ok(again.publicKey.equals(key.publicKey))
      const pub = publicKeyFromProtobuf(key.publicKey.toProtobuf())
      assert.equal(await pub.verify(message, sig), true)
      assert.equal(await pub.verify(message, randomBytes(sig.length)), false)
    })
  }

  it('refuses RSA generation outside 2048..8192 bits', async () => {
    await assert.rejects(generateKeyPair('RSA', 1024), InvalidParametersError)
    await assert.rejects(generateKeyPair('RSA', 16384), InvalidParametersError)
  })

  it('rejects an unknown type', async () => {
    await assert.rejects(generateKeyPair('DSA' as KeyType), InvalidParametersError)
    assert.throws(() => publicKeyFromProtobuf(Uint8Array.of(0x08, 0x04, 0x12, 0x01, 0x00)), InvalidKeyError)
  })
})

describe('helpers', () => {
  it('sha256 matches the FIPS 180-2 "abc" vector', () => {
    assert.equal(toHex(sha256(new TextEncoder().encode('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })

  it('randomBytes gives the requested length, beyond the 64 KiB getRandomValues limit too', () => {
    assert.equal(randomBytes(0).length, 0)
    const big = randomBytes(100_000)
    assert.equal(big.length, 100_000)
    assert.equal(Object.getPrototypeOf(big), Uint8Array.prototype)
    assert.notDeepEqual(randomBytes(32), randomBytes(32))
    assert.throws(() => randomBytes(-1), InvalidParametersError)
  })
})
