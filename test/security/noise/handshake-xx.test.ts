import { test } from 'node:test'
import assert from 'node:assert/strict'
import { noiseCrypto as nodeCrypto } from '../../../src/security/noise/crypto.node.ts'
import { noiseCrypto as webCrypto } from '../../../src/security/noise/crypto.browser.ts'
import type { NoiseCrypto } from '../../../src/security/noise/crypto.ts'
import { XXHandshake } from '../../../src/security/noise/handshake-xx.ts'
import { CipherState, MAX_NONCE } from '../../../src/security/noise/symmetric-state.ts'
import { fromHex, toHex } from '../../../src/util/bytes.ts'
import { HandshakeError, InvalidMessageError, LimitExceededError } from '../../../src/util/errors.ts'

// The Noise_XX_25519_ChaChaPoly_SHA256 vector of the cacophony test suite (the Noise
// framework's cross-implementation vectors): fixed keys, prologue "John Galt", 3 handshake
// messages then 3 transport messages, alternating initiator / responder.
const VECTOR = {
  prologue: '4a6f686e2047616c74',
  initStatic: 'e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1',
  initEphemeral: '893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a',
  respStatic: '4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893',
  respEphemeral: 'bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b',
  handshakeHash: 'c8e5f64e846193be2a834104c2a009868d6c9f3bd3c186299888b488b2f1f58e',
  messages: [
    ['4c756477696720766f6e204d69736573', 'ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79444c756477696720766f6e204d69736573'],
    ['4d757272617920526f746862617264', '95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f14480884381cbad1f276e038c48378ffce2b65285e08d6b68aaa3629a5a8639392490e5b9bd5269c2f1e4f488ed8831161f19b7815528f8982ffe09be9b5c412f8a0db50f8814c7194e83f23dbd8d162c9326ad'],
    ['462e20412e20486179656b', 'c7195ffacac1307ff99046f219750fc47693e23c3cb08b89c2af808b444850a80ae475b9df0f169ae80a89be0865b57f58c9fea0d4ec82a286427402f113e4b6ae769a1d95941d49b25030'],
    ['4361726c204d656e676572', '96763ed773f8e47bb3712f0e29b3060ffc956ffc146cee53d5e1df'],
    ['4a65616e2d426170746973746520536179', '3e40f15f6f3a46ae446b253bf8b1d9ffb6ed9b174d272328ff91a7e2e5c79c07f5'],
    ['457567656e2042f6686d20766f6e2042617765726b', 'eb3f3515110702e047a6c9da4478b6ead94873c11c0f2d710ddb3f09fce024b3a58502ae3f']
  ]
}

const backends: Array<[string, NoiseCrypto]> = [['node', nodeCrypto], ['web', webCrypto]]

function vectorPair (crypto: NoiseCrypto): [XXHandshake, XXHandshake] {
  const prologue = fromHex(VECTOR.prologue)
  const initiator = new XXHandshake(crypto, {
    initiator: true,
    prologue,
    staticKeyPair: crypto.x25519KeyPairFromPrivateKey(fromHex(VECTOR.initStatic)),
    ephemeralKeyPair: crypto.x25519KeyPairFromPrivateKey(fromHex(VECTOR.initEphemeral))
  })
  const responder = new XXHandshake(crypto, {
    initiator: false,
    prologue,
    staticKeyPair: crypto.x25519KeyPairFromPrivateKey(fromHex(VECTOR.respStatic)),
    ephemeralKeyPair: crypto.x25519KeyPairFromPrivateKey(fromHex(VECTOR.respEphemeral))
  })
  return [initiator, responder]
}

for (const [name, crypto] of backends) {
  test(`${name} backend: XX handshake and transport match the cacophony vector`, () => {
    const [initiator, responder] = vectorPair(crypto)
    const m = VECTOR.messages.map(([p, c]) => [fromHex(p), fromHex(c)])

    const a = initiator.writeMessageA(m[0][0])
    assert.equal(toHex(a), toHex(m[0][1]))
    assert.equal(toHex(responder.readMessageA(a)), toHex(m[0][0]))

    const b = responder.writeMessageB(m[1][0])
    assert.equal(toHex(b), toHex(m[1][1]))
    assert.equal(toHex(initiator.readMessageB(b)), toHex(m[1][0]))

    const c = initiator.writeMessageC(m[2][0])
    assert.equal(toHex(c), toHex(m[2][1]))
    assert.equal(toHex(responder.readMessageC(c)), toHex(m[2][0]))

    assert.equal(toHex(initiator.handshakeHash), VECTOR.handshakeHash)
    assert.equal(toHex(responder.handshakeHash), VECTOR.handshakeHash)
    assert.equal(toHex(initiator.remoteStaticKey!), toHex(responder.staticPublicKey))
    assert.equal(toHex(responder.remoteStaticKey!), toHex(initiator.staticPublicKey))

    const i = initiator.split()
    const r = responder.split()
    // Transport messages alternate, starting with the responder (message index 3).
    const senders = [r.send, i.send, r.send]
    const receivers = [i.receive, r.receive, i.receive]
    for (let k = 0; k < 3; k++) {
      const [plaintext, ciphertext] = m[3 + k]
      const sealed = new Uint8Array(plaintext.length + 16)
      senders[k].sealInto(plaintext, sealed, 0)
      assert.equal(toHex(sealed), toHex(ciphertext), `transport message ${k}`)
      assert.equal(toHex(receivers[k].decryptWithAd(undefined, sealed)), toHex(plaintext))
    }
  })

  test(`${name} backend: a tampered handshake message fails with HandshakeError`, () => {
    const [initiator, responder] = vectorPair(crypto)
    responder.readMessageA(initiator.writeMessageA(new Uint8Array(0)))
    const b = responder.writeMessageB(new Uint8Array(0))
    b[40] ^= 1
    assert.throws(() => initiator.readMessageB(b), HandshakeError)
  })

  test(`${name} backend: short handshake messages fail with HandshakeError`, () => {
    const [initiator, responder] = vectorPair(crypto)
    assert.throws(() => responder.readMessageA(new Uint8Array(31)), HandshakeError)
    initiator.writeMessageA(new Uint8Array(0))
    assert.throws(() => initiator.readMessageB(new Uint8Array(95)), HandshakeError)
  })

  test(`${name} backend: steps out of order are refused`, () => {
    const [initiator, responder] = vectorPair(crypto)
    assert.throws(() => initiator.readMessageA(new Uint8Array(32)), HandshakeError)
    assert.throws(() => responder.writeMessageB(new Uint8Array(0)), HandshakeError)
    assert.throws(() => initiator.split(), HandshakeError)
  })

  test(`${name} backend: a low-order remote ephemeral key is rejected`, () => {
    const [, responder] = vectorPair(crypto)
    responder.readMessageA(new Uint8Array(32)) // all-zero point
    assert.throws(() => responder.writeMessageB(new Uint8Array(0)), HandshakeError)
  })
}

test('node and web backends interoperate with random keys', () => {
  for (const [ci, cr] of [[nodeCrypto, webCrypto], [webCrypto, nodeCrypto]]) {
    const initiator = new XXHandshake(ci, { initiator: true, staticKeyPair: ci.generateX25519KeyPair() })
    const responder = new XXHandshake(cr, { initiator: false, staticKeyPair: cr.generateX25519KeyPair() })
    responder.readMessageA(initiator.writeMessageA(new Uint8Array(0)))
    assert.equal(toHex(initiator.readMessageB(responder.writeMessageB(Uint8Array.of(1, 2)))), '0102')
    assert.equal(toHex(responder.readMessageC(initiator.writeMessageC(Uint8Array.of(3)))), '03')
    const i = initiator.split()
    const r = responder.split()
    const payload = new Uint8Array(70000).map((_, k) => k & 0xff)
    const sealed = new Uint8Array(payload.length + 16)
    i.send.sealInto(payload, sealed, 0)
    assert.deepEqual(r.receive.decryptWithAd(undefined, sealed), payload)
    assert.equal(toHex(initiator.handshakeHash), toHex(responder.handshakeHash))
  }
})

test('cipher state: bad tag keeps the nonce, exhaustion fails closed', () => {
  for (const [, crypto] of backends) {
    const key = new Uint8Array(32).fill(7)
    const sender = new CipherState(crypto, key)
    const receiver = new CipherState(crypto, key)
    const sealed = sender.encryptWithAd(undefined, Uint8Array.of(1, 2, 3))
    const forged = sealed.slice()
    forged[forged.length - 1] ^= 0x80
    assert.throws(() => receiver.decryptWithAd(undefined, forged), InvalidMessageError)
    assert.equal(receiver.nonce, 0)
    assert.deepEqual(receiver.decryptWithAd(undefined, sealed), Uint8Array.of(1, 2, 3))
    assert.throws(() => receiver.decryptWithAd(undefined, new Uint8Array(5)), InvalidMessageError)

    // The nonce is 4 zero bytes + little-endian counter: check a large counter round-trips.
    sender.setNonceForTesting(2 ** 40 + 5)
    receiver.setNonceForTesting(2 ** 40 + 5)
    assert.deepEqual(receiver.decryptWithAd(undefined, sender.encryptWithAd(undefined, Uint8Array.of(9))), Uint8Array.of(9))
    sender.setNonceForTesting(MAX_NONCE)
    assert.throws(() => sender.encryptWithAd(undefined, Uint8Array.of(1)), LimitExceededError)
  }
})
