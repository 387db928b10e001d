import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { privateKeyFromProtobuf, publicKeyFromProtobuf } from '../../src/crypto/index.ts'
import { fromHex, toHex } from '../../src/util/bytes.ts'
import { GO_KEY_VECTORS } from './go-vectors.ts'

const message = new TextEncoder().encode('Libp2p is the _best_!')

describe('go-libp2p core/crypto fixtures', () => {
  for (const [name, v] of Object.entries(GO_KEY_VECTORS)) {
    it(`${name}: round-trips keys byte-exact and verifies go's signature`, async () => {
      const pub = publicKeyFromProtobuf(fromHex(v.pub))
      assert.equal(toHex(pub.toProtobuf()), v.pub)
      const priv = privateKeyFromProtobuf(fromHex(v.priv))
      assert.equal(toHex(priv.toProtobuf()), v.priv)
      assert.ok(priv.publicKey.equals(pub))
      assert.equal(await pub.verify(message, fromHex(v.sig)), true)
      assert.equal(await pub.verify(message.subarray(0, 20), fromHex(v.sig)), false)
      const ours = await priv.sign(message)
      assert.equal(await pub.verify(message, ours), true)
      // go signs deterministically for RSA (PKCS#1 v1.5) and secp256k1 (RFC 6979); so must we.
      if (name !== 'ecdsa') assert.equal(toHex(ours), v.sig)
    })
  }
})
