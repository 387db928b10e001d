import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair, generateKeyPairFromSeed, randomBytes } from '../../src/crypto/index.ts'
import { decodeEnvelope, encodeEnvelope, envelopeSignatureData, openAndVerify, seal, sealEnvelope } from '../../src/peer/envelope.ts'
import { toHex, utf8Encode } from '../../src/util/bytes.ts'
import { InvalidKeyError, InvalidMessageError, InvalidSignatureError, MessageTooLargeError } from '../../src/util/errors.ts'

const payloadType = Uint8Array.of(0x03, 0x01)
const payload = utf8Encode('some payload')

describe('signed envelopes', () => {
  it('signs the varint-prefixed domain, type and payload', () => {
    const data = envelopeSignatureData('ab', Uint8Array.of(9), Uint8Array.of(7, 7))
    assert.equal(toHex(data), '02' + '6162' + '01' + '09' + '02' + '0707')
  })

  it('seals and opens for the same domain, for every key type', async () => {
    for (const type of ['Ed25519', 'secp256k1', 'ECDSA', 'RSA'] as const) {
      const key = await generateKeyPair(type)
      const bytes = await sealEnvelope(key, 'test-domain', payloadType, payload)
      const env = await openAndVerify(bytes, 'test-domain')
      assert.ok(env.publicKey.equals(key.publicKey))
      assert.deepEqual(env.payloadType, payloadType)
      assert.deepEqual(env.payload, payload)
      assert.deepEqual(encodeEnvelope(env), bytes)
    }
  })

  it('seal takes any record with a domain, codec and marshal()', async () => {
    const key = generateKeyPairFromSeed('Ed25519', new Uint8Array(32))
    const bytes = await seal(key, { domain: 'x', codec: Uint8Array.of(1), marshal: () => Uint8Array.of(2) })
    const env = await openAndVerify(bytes, 'x')
    assert.deepEqual(env.payload, Uint8Array.of(2))
    // field order 1, 2, 3, 5 with the public key as an embedded PublicKey message
    assert.deepEqual([...bytes.subarray(0, 4)], [0x0a, 0x24, 0x08, 0x01])
    assert.deepEqual([...bytes.subarray(38, 44)], [0x12, 0x01, 0x01, 0x1a, 0x01, 0x02])
    assert.deepEqual([...bytes.subarray(44, 46)], [0x2a, 0x40])
  })

  it('rejects another domain, a tampered payload and a foreign key', async () => {
    const key = await generateKeyPair()
    const bytes = await sealEnvelope(key, 'test-domain', payloadType, payload)
    await assert.rejects(openAndVerify(bytes, 'other-domain'), InvalidSignatureError)
    const env = decodeEnvelope(bytes)
    const tampered = encodeEnvelope({ ...env, payload: utf8Encode('some paylOad') })
    await assert.rejects(openAndVerify(tampered, 'test-domain'), InvalidSignatureError)
    const other = await generateKeyPair()
    const swapped = encodeEnvelope({ ...env, publicKey: other.publicKey })
    await assert.rejects(openAndVerify(swapped, 'test-domain'), InvalidSignatureError)
  })

  it('rejects malformed envelopes with typed errors', async () => {
    const key = await generateKeyPair()
    const bytes = await sealEnvelope(key, 'd', payloadType, payload)
    await assert.rejects(openAndVerify(new Uint8Array(0), 'd'), InvalidMessageError)
    await assert.rejects(openAndVerify(bytes.subarray(0, bytes.length - 1), 'd'), InvalidMessageError)
    await assert.rejects(openAndVerify(bytes, 'd', 10), MessageTooLargeError)
    // no signature
    await assert.rejects(openAndVerify(bytes.subarray(0, 38), 'd'), InvalidMessageError)
    // a public key of an unknown type
    await assert.rejects(openAndVerify(Uint8Array.of(0x0a, 0x05, 0x08, 0x09, 0x12, 0x01, 0x00, 0x2a, 0x01, 0x00), 'd'), InvalidKeyError)
  })

  it('never throws untyped errors on truncations, bit flips and random bytes', async () => {
    const key = await generateKeyPair()
    const bytes = await sealEnvelope(key, 'd', payloadType, payload)
    const inputs: Uint8Array[] = []
    for (let i = 0; i < bytes.length; i++) inputs.push(bytes.subarray(0, i))
    for (let i = 0; i < bytes.length * 8; i++) {
      const flipped = bytes.slice()
      flipped[i >> 3] ^= 1 << (i & 7)
      inputs.push(flipped)
    }
    for (let i = 0; i < 500; i++) inputs.push(randomBytes(i % 200))
    for (const input of inputs) {
      try {
        await openAndVerify(input, 'd')
      } catch (err) {
        assert.ok(err instanceof InvalidMessageError || err instanceof InvalidSignatureError || err instanceof InvalidKeyError || err instanceof MessageTooLargeError, String(err))
      }
    }
  })
})
