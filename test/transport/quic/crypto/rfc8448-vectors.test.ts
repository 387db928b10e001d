/**
 * RFC 8448 section 3 ("Simple 1-RTT Handshake"): its published messages run through our
 * decoders, framer, transcript, key schedule, Finished computation and CertificateVerify check
 * (RSA-PSS there), and its X25519 exchange through our key share code's primitive. QUIC uses
 * the same TLS key schedule with other labels, so this pins everything below the QUIC labels.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate, createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto'
import {
  HASH_LENGTH, deriveApplicationSecrets, deriveHandshakeSecrets, deriveSecret, finishedVerifyData, hkdfExpandLabel, hkdfExtract, sha256
} from '../../../../src/transport/quic/crypto/key-schedule.node.ts'
import {
  ExtensionType, HandshakeFramer, HandshakeType, decodeCertificate, decodeCertificateVerify, decodeClientHello, decodeClientKeyShares,
  decodeEncryptedExtensions, decodeServerHello, decodeServerKeyShare
} from '../../../../src/transport/quic/crypto/tls-messages.ts'
import { certificateVerifyContent, verifyCertificateVerify } from '../../../../src/transport/quic/crypto/certificate-verify.node.ts'
import { QuicTlsError, TlsAlert } from '../../../../src/transport/quic/crypto/errors.ts'

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'))
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

const CLIENT_HELLO = hex(`
  010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece700000613011303
  1302010000910000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103
  010400230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c
  002b0003020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d000201
  01001c00024001`)
const SERVER_HELLO = hex(`
  020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e00
  330024001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304`)
/** EncryptedExtensions, Certificate, CertificateVerify, Finished: the server's encrypted flight. */
const SERVER_FLIGHT = hex(`
  080000240022000a00140012001d00170018001901000101010201030104001c00024001000000000b0001b9000001b5
  0001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c300a0603550403130372
  7361301e170d3136303733303031323335395a170d3236303733303031323335395a300e310c300a0603550403130372
  736130819f300d06092a864886f70d010101050003818d0030818902818100b4bb498f8279303d980836399b36c6988c
  0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced43120998e187a80ee0cc
  b0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d03e2bd193eff0ab9a
  8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b0603551d0f0404030205a0
  300d06092a864886f70d01010b05000381810085aad2a0e5b9276b908c65f73a7267170618a54c5f8a7b337d2df7a594
  365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102702e608ccae6bec1
  fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b4
  2b4de100000f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145ab3ff52f1fda8477b0b7abc
  90db78e2d33a5c141a078653fa6bef780c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671
  459e46445c9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda65cdf5aea20d53dfacd42f74f3140000
  209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718`)
const CLIENT_X25519_PRIVATE = hex('49af42ba7f7994852d713ef2784bcbcaa7911de26adc5642cb634540e7ea5005')
const SHARED_SECRET = hex('8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d')

test('RFC 8448: the hellos decode, and the X25519 exchange gives the published shared secret', () => {
  const framer = new HandshakeFramer()
  // Fed one byte at a time, as a CRYPTO stream may split anywhere.
  const messages = []
  for (const byte of [...CLIENT_HELLO, ...SERVER_HELLO]) messages.push(...framer.push(Uint8Array.of(byte)))
  assert.deepEqual(messages.map(m => m.type), [HandshakeType.clientHello, HandshakeType.serverHello])
  assert.equal(framer.pendingLength, 0)

  const clientHello = decodeClientHello(messages[0].body)
  assert.deepEqual(clientHello.cipherSuites, [0x1301, 0x1303, 0x1302])
  assert.ok(clientHello.extensions.has(ExtensionType.serverName))
  const [share] = decodeClientKeyShares(clientHello.extensions.get(ExtensionType.keyShare)!)
  assert.equal(share.group, 0x001d)

  const serverHello = decodeServerHello(messages[1].body)
  assert.equal(serverHello.cipherSuite, 0x1301)
  assert.equal(serverHello.isHelloRetryRequest, false)
  const serverShare = decodeServerKeyShare(serverHello.extensions.get(ExtensionType.keyShare)!)

  const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), CLIENT_X25519_PRIVATE]), format: 'der', type: 'pkcs8' })
  const publicKey = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b656e032100', 'hex'), serverShare.keyExchange]), format: 'der', type: 'spki' })
  assert.equal(toHex(diffieHellman({ privateKey, publicKey })), toHex(SHARED_SECRET))
  // And the client's public share is the one its private key makes.
  const clientPublic = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  assert.equal(toHex(clientPublic.subarray(-32)), toHex(share.keyExchange))
})

test('RFC 8448: key schedule from the shared secret and the transcript, every published secret', () => {
  assert.equal(toHex(hkdfExtract(new Uint8Array(32), new Uint8Array(32))), '33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a')
  assert.equal(toHex(deriveSecret(hex('33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a'), 'derived', sha256())), '6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba')
  const helloHash = sha256(CLIENT_HELLO, SERVER_HELLO)
  assert.equal(toHex(helloHash), '860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8')
  const secrets = deriveHandshakeSecrets(SHARED_SECRET, helloHash)
  assert.equal(toHex(secrets.handshakeSecret), '1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac')
  assert.equal(toHex(secrets.clientHandshakeTrafficSecret), 'b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21')
  assert.equal(toHex(secrets.serverHandshakeTrafficSecret), 'b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38')
  // TLS's own record keys ("key"/"iv" labels) from the handshake secrets, as the RFC prints them.
  assert.equal(toHex(hkdfExpandLabel(secrets.serverHandshakeTrafficSecret, 'key', new Uint8Array(0), 16)), '3fce516009c21727d0f2e4e86ee403bc')
  assert.equal(toHex(hkdfExpandLabel(secrets.clientHandshakeTrafficSecret, 'iv', new Uint8Array(0), 12)), '5bd3c71b836e0b76bb73265f')
  assert.equal(toHex(hkdfExpandLabel(secrets.serverHandshakeTrafficSecret, 'finished', new Uint8Array(0), HASH_LENGTH)), '008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8')
})

test('RFC 8448: the server flight decodes; CertificateVerify (RSA-PSS) and both Finished verify', () => {
  const framer = new HandshakeFramer()
  const flight = [...framer.push(SERVER_FLIGHT.subarray(0, 300)), ...framer.push(SERVER_FLIGHT.subarray(300))]
  assert.deepEqual(flight.map(m => m.type), [HandshakeType.encryptedExtensions, HandshakeType.certificate, HandshakeType.certificateVerify, HandshakeType.finished])
  const [encryptedExtensions, certificate, certificateVerify, finished] = flight
  assert.ok(decodeEncryptedExtensions(encryptedExtensions.body).has(ExtensionType.supportedGroups))
  const { certificates } = decodeCertificate(certificate.body)
  assert.equal(certificates.length, 1)
  const spki = new Uint8Array(new X509Certificate(certificates[0]).publicKey.export({ format: 'der', type: 'spki' }))

  const secrets = deriveHandshakeSecrets(SHARED_SECRET, sha256(CLIENT_HELLO, SERVER_HELLO))
  const { scheme, signature } = decodeCertificateVerify(certificateVerify.body)
  assert.equal(scheme, 0x0804)
  const content = certificateVerifyContent('server', sha256(CLIENT_HELLO, SERVER_HELLO, encryptedExtensions.raw, certificate.raw))
  verifyCertificateVerify(spki, scheme, signature, content)
  // The same signature for the client's context, or over another transcript, is refused.
  assert.throws(() => verifyCertificateVerify(spki, scheme, signature, certificateVerifyContent('client', sha256(CLIENT_HELLO, SERVER_HELLO, encryptedExtensions.raw, certificate.raw))),
    (err: QuicTlsError) => err.tlsAlert === TlsAlert.decryptError)
  assert.throws(() => verifyCertificateVerify(spki, 0x0403, signature, content), (err: QuicTlsError) => err.tlsAlert === TlsAlert.illegalParameter)

  const beforeFinished = sha256(CLIENT_HELLO, SERVER_HELLO, encryptedExtensions.raw, certificate.raw, certificateVerify.raw)
  assert.equal(toHex(finishedVerifyData(secrets.serverHandshakeTrafficSecret, beforeFinished)), toHex(finished.body))
  assert.equal(toHex(finished.body), '9b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718')

  const throughServerFinished = sha256(CLIENT_HELLO, SERVER_HELLO, SERVER_FLIGHT)
  assert.equal(toHex(throughServerFinished), '9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13')
  const application = deriveApplicationSecrets(secrets.handshakeSecret, throughServerFinished)
  assert.equal(toHex(application.clientApplicationTrafficSecret), '9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5')
  assert.equal(toHex(application.serverApplicationTrafficSecret), 'a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643')
  // The client Finished covers the server's Finished too.
  assert.equal(toHex(finishedVerifyData(secrets.clientHandshakeTrafficSecret, throughServerFinished)), 'a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61')
})
