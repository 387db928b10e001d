import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { backend as nodeBackend } from '../../src/crypto/backend.node.ts'
import { backend as webBackend } from '../../src/crypto/backend.browser.ts'
import { fromHex, toHex } from '../../src/util/bytes.ts'
import { SPEC_KEY_VECTORS } from './spec-vectors.ts'
import { GO_KEY_VECTORS } from './go-vectors.ts'
import { decodeKeyProtobuf } from '../../src/crypto/key-protobuf.ts'
import { publicKeyFromProtobuf } from '../../src/crypto/index.ts'

const message = new TextEncoder().encode('Libp2p is the _best_!')

describe('crypto backends agree (the browser backend runs here on Node\'s WebCrypto)', () => {
  it('sha256', () => {
    for (const len of [0, 1, 55, 64, 1000]) {
      const data = nodeBackend.randomBytes(len)
      assert.deepEqual(webBackend.sha256(data), nodeBackend.sha256(data))
    }
  })

  it('Ed25519: same public keys and signatures, each verifies the other', () => {
    for (let i = 0; i < 20; i++) {
      const seed = webBackend.randomBytes(32)
      const pub = nodeBackend.ed25519PublicKeyFromSeed(seed)
      assert.deepEqual(webBackend.ed25519PublicKeyFromSeed(seed), pub)
      const data = nodeBackend.randomBytes(i * 10)
      const sigNode = nodeBackend.ed25519Signer(seed, pub)(data)
      const sigWeb = webBackend.ed25519Signer(seed, pub)(data)
      assert.deepEqual(sigWeb, sigNode)
      assert.equal(webBackend.ed25519Verifier(pub)(data, sigNode), true)
      assert.equal(nodeBackend.ed25519Verifier(pub)(data, sigWeb), true)
      const bad = sigNode.slice()
      bad[0] ^= 1
      assert.equal(webBackend.ed25519Verifier(pub)(data, bad), false)
      assert.equal(nodeBackend.ed25519Verifier(pub)(data, bad), false)
    }
  })

  it('ECDSA P-256: Node\'s OpenSSL verifier agrees with @noble on valid, tampered, high-S and junk signatures', async () => {
    const { p256 } = await import('@noble/curves/nist.js')
    const { generateKeyPair } = await import('../../src/crypto/index.ts')
    assert.equal(webBackend.ecdsaVerifier, undefined)
    for (let i = 0; i < 10; i++) {
      const key = await generateKeyPair('ECDSA')
      const verify = nodeBackend.ecdsaVerifier!(key.publicKey.raw)
      const data = nodeBackend.randomBytes(i * 13)
      const signature = await key.sign(data)
      const point = p256.getPublicKey(key.raw.subarray(7, 39), false)
      const noble = (sig: Uint8Array): boolean => { try { return p256.verify(sig, nodeBackend.sha256(data), point, { prehash: false, format: 'der', lowS: false }) } catch { return false } }
      assert.equal(verify(data, signature), true)
      assert.equal(noble(signature), true)
      // The same signature with s replaced by n - s (high S): both accept, as go and js do.
      const parsed = p256.Signature.fromBytes(signature, 'der')
      const highS = new p256.Signature(parsed.r, p256.Point.CURVE().n - parsed.s).toBytes('der')
      assert.equal(verify(data, highS), noble(highS))
      for (const junk of [signature.subarray(0, 10), new Uint8Array(0), Uint8Array.of(...signature, 0), signature.map((b, j) => j === 20 ? b ^ 1 : b)]) {
        assert.equal(verify(data, junk), false)
        assert.equal(noble(junk), false)
      }
    }
  })

  it('Ed25519 verifiers return false for junk public keys and signatures', () => {
    for (const backend of [nodeBackend, webBackend]) {
      for (let i = 0; i < 50; i++) {
        const verify = backend.ed25519Verifier(backend.randomBytes(32))
        assert.equal(verify(message, backend.randomBytes(64)), false)
        assert.equal(verify(message, backend.randomBytes(i)), false)
      }
    }
  })

  it('RSA: WebCrypto verifies the spec and go vectors and interoperates with OpenSSL', async () => {
    const { data: pkcs1 } = decodeKeyProtobuf(fromHex(SPEC_KEY_VECTORS.rsaPrivate))
    const spki = publicKeyFromProtobuf(fromHex(SPEC_KEY_VECTORS.rsaPublic)).raw
    const sigWeb = await webBackend.rsaSigner(pkcs1)(message)
    const sigNode = await nodeBackend.rsaSigner(pkcs1)(message)
    assert.equal(toHex(sigWeb), toHex(sigNode))
    assert.equal(await webBackend.rsaVerifier(spki)(message, sigNode), true)
    assert.equal(await webBackend.rsaVerifier(spki)(message.subarray(1), sigNode), false)
    const go = GO_KEY_VECTORS.rsa
    const goSpki = publicKeyFromProtobuf(fromHex(go.pub)).raw
    assert.equal(await webBackend.rsaVerifier(goSpki)(message, fromHex(go.sig)), true)
    assert.equal(await webBackend.rsaVerifier(goSpki)(message, new Uint8Array(3)), false)
  })

  it('RSA generation through WebCrypto yields a PKCS#1 key OpenSSL can use', async () => {
    const pkcs1 = await webBackend.rsaGenerate(2048)
    const sig = await webBackend.rsaSigner(pkcs1)(message)
    const nodeSig = await nodeBackend.rsaSigner(pkcs1)(message)
    assert.deepEqual(sig, nodeSig)
  })
})

describe('browser safety', () => {
  it('no module outside *.node.ts in src/crypto and src/peer imports a Node built-in', () => {
    for (const dir of ['crypto', 'peer']) {
      const url = new URL(`../../src/${dir}/`, import.meta.url)
      for (const file of readdirSync(url)) {
        if (!file.endsWith('.ts') || file.endsWith('.node.ts')) continue
        const text = readFileSync(new URL(file, url), 'utf8')
        assert.doesNotMatch(text, /from\s+'node:|from\s+'(crypto|fs|buffer|path)'|require\(/, `${dir}/${file}`)
      }
    }
  })

  it('package.json maps #crypto-backend to the web backend outside Node', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
    assert.deepEqual(pkg.imports['#crypto-backend'], { node: './src/crypto/backend.node.ts', default: './src/crypto/backend.browser.ts' })
  })
})
