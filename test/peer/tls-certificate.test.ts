import { test } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate, createPublicKey } from 'node:crypto'
import { generateKeyPair } from '../../src/crypto/index.ts'
import { DerReader, decodeOid, derOid, derTime } from '../../src/crypto/der.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { generateCertificate, verifyCertificate, LIBP2P_EXTENSION_OID, MAX_CERTIFICATE_LENGTH } from '../../src/peer/tls-certificate.ts'
import { InvalidCertificateError } from '../../src/util/errors.ts'
import { fromHex } from '../../src/util/bytes.ts'

// specs tls/tls.md "Test vectors": certificates valid 1975-01-01 to 4096-01-01.
const SPEC_VECTORS = [
  {
    name: 'Ed25519',
    peerId: '12D3KooWM6CgA9iBFZmcYAHA6A2qvbAxqfkmrYiRQuz3XEsk4Ksv',
    der: '308201ae30820156a0030201020204499602d2300a06082a8648ce3d040302302031123010060355040a13096c69627032702e696f310a300806035504051301313020170d3735303130313133303030305a180f34303936303130313133303030305a302031123010060355040a13096c69627032702e696f310a300806035504051301313059301306072a8648ce3d020106082a8648ce3d030107034200040c901d423c831ca85e27c73c263ba132721bb9d7a84c4f0380b2a6756fd601331c8870234dec878504c174144fa4b14b66a651691606d8173e55bd37e381569ea37c307a3078060a2b0601040183a25a0101046a3068042408011220a77f1d92fedb59dddaea5a1c4abd1ac2fbde7d7b879ed364501809923d7c11b90440d90d2769db992d5e6195dbb08e706b6651e024fda6cfb8846694a435519941cac215a8207792e42849cccc6cd8136c6e4bde92a58c5e08cfd4206eb5fe0bf909300a06082a8648ce3d0403020346003043021f50f6b6c52711a881778718238f650c9fb48943ae6ee6d28427dc6071ae55e702203625f116a7a454db9c56986c82a25682f7248ea1cb764d322ea983ed36a31b77'
  },
  {
    name: 'ECDSA',
    peerId: 'QmfXbAwNjJLXfesgztEHe8HwgVDCMMpZ9Eax1HYq6hn9uE',
    der: '308201f63082019da0030201020204499602d2300a06082a8648ce3d040302302031123010060355040a13096c69627032702e696f310a300806035504051301313020170d3735303130313133303030305a180f34303936303130313133303030305a302031123010060355040a13096c69627032702e696f310a300806035504051301313059301306072a8648ce3d020106082a8648ce3d030107034200040c901d423c831ca85e27c73c263ba132721bb9d7a84c4f0380b2a6756fd601331c8870234dec878504c174144fa4b14b66a651691606d8173e55bd37e381569ea381c23081bf3081bc060a2b0601040183a25a01010481ad3081aa045f0803125b3059301306072a8648ce3d020106082a8648ce3d03010703420004bf30511f909414ebdd3242178fd290f093a551cf75c973155de0bb5a96fedf6cb5d52da7563e794b512f66e60c7f55ba8a3acf3dd72a801980d205e8a1ad29f2044730450220064ea8124774caf8f50e57f436aa62350ce652418c019df5d98a3ac666c9386a022100aa59d704a931b5f72fb9222cb6cc51f954d04a4e2e5450f8805fe8918f71eaae300a06082a8648ce3d04030203470030440220799395b0b6c1e940a7e4484705f610ab51ed376f19ff9d7c16757cfbf61b8d4302206205c03fbb0f95205c779be86581d3e31c01871ad5d1f3435bcf375cb0e5088a'
  },
  {
    name: 'secp256k1',
    peerId: '16Uiu2HAkutTMoTzDw1tCvSRtu6YoixJwS46S1ZFxW8hSx9fWHiPs',
    der: '308201ba3082015fa0030201020204499602d2300a06082a8648ce3d040302302031123010060355040a13096c69627032702e696f310a300806035504051301313020170d3735303130313133303030305a180f34303936303130313133303030305a302031123010060355040a13096c69627032702e696f310a300806035504051301313059301306072a8648ce3d020106082a8648ce3d030107034200040c901d423c831ca85e27c73c263ba132721bb9d7a84c4f0380b2a6756fd601331c8870234dec878504c174144fa4b14b66a651691606d8173e55bd37e381569ea38184308181307f060a2b0601040183a25a01010471306f0425080212210206dc6968726765b820f050263ececf7f71e4955892776c0970542efd689d2382044630440220145e15a991961f0d08cd15425bb95ec93f6ffa03c5a385eedc34ecf464c7a8ab022026b3109b8a3f40ef833169777eb2aa337cfb6282f188de0666d1bcec2a4690dd300a06082a8648ce3d0403020349003046022100e1a217eeef9ec9204b3f774a08b70849646b6a1e6b8b27f93dc00ed58545d9fe022100b00dafa549d0f03547878338c7b15e7502888f6d45db387e5ae6b5d46899cef0'
  }
]
// Vector 4: the SignedKey signature does not match the certificate key.
const INVALID_VECTOR = '308201f73082019da0030201020204499602d2300a06082a8648ce3d040302302031123010060355040a13096c69627032702e696f310a300806035504051301313020170d3735303130313133303030305a180f34303936303130313133303030305a302031123010060355040a13096c69627032702e696f310a300806035504051301313059301306072a8648ce3d020106082a8648ce3d030107034200040c901d423c831ca85e27c73c263ba132721bb9d7a84c4f0380b2a6756fd601331c8870234dec878504c174144fa4b14b66a651691606d8173e55bd37e381569ea381c23081bf3081bc060a2b0601040183a25a01010481ad3081aa045f0803125b3059301306072a8648ce3d020106082a8648ce3d03010703420004bf30511f909414ebdd3242178fd290f093a551cf75c973155de0bb5a96fedf6cb5d52da7563e794b512f66e60c7f55ba8a3acf3dd72a801980d205e8a1ad29f204473045022100bb6e03577b7cc7a3cd1558df0da2b117dfdcc0399bc2504ebe7de6f65cade72802206de96e2a5be9b6202adba24ee0362e490641ac45c240db71fe955f2c5cf8df6e300a06082a8648ce3d0403020348003045022100e847f267f43717358f850355bdcabbefb2cfbf8a3c043b203a14788a092fe8db022027c1d04a2d41fd6b57a7e8b3989e470325de4406e52e084e34a3fd56eef0d0df'

for (const vector of SPEC_VECTORS) {
  test(`tls certificate: spec vector, ${vector.name} host key authenticates ${vector.peerId}`, async () => {
    const verified = await verifyCertificate(fromHex(vector.der))
    assert.equal(verified.peerId.toString(), vector.peerId)
    assert.equal(verified.notBefore.toISOString(), '1975-01-01T13:00:00.000Z')
    assert.equal(verified.notAfter.toISOString(), '4096-01-01T13:00:00.000Z')
  })
}

test('tls certificate: spec vector 4, a SignedKey signature over another key, is rejected', async () => {
  await assert.rejects(verifyCertificate(fromHex(INVALID_VECTOR)), (err: Error) =>
    err instanceof InvalidCertificateError && err.code === 'ERR_INVALID_CERTIFICATE' && /signature does not verify/.test(err.message))
})

for (const type of ['Ed25519', 'secp256k1', 'ECDSA', 'RSA'] as const) {
  test(`tls certificate: a generated certificate round-trips for a ${type} host key and OpenSSL accepts it`, async () => {
    const hostKey = await generateKeyPair(type)
    const { der, certificateKey } = await generateCertificate(hostKey)
    const verified = await verifyCertificate(der)
    assert.ok(verified.peerId.equals(peerIdFromPrivateKey(hostKey)))
    assert.ok(verified.publicKey.equals(hostKey.publicKey))
    // An independent parser: OpenSSL reads the certificate, finds it self-signed with its key.
    const x509 = new X509Certificate(der)
    assert.ok(x509.verify(x509.publicKey))
    assert.ok(x509.publicKey.equals(createPublicKey({ key: Buffer.from(certificateKey.publicKey.raw), format: 'der', type: 'spki' })))
    assert.ok(verified.notBefore.getTime() < Date.now() && verified.notAfter.getFullYear() > 2100)
  })
}

test('tls certificate: each node gets a fresh certificate key', async () => {
  const hostKey = await generateKeyPair('Ed25519')
  const a = await generateCertificate(hostKey)
  const b = await generateCertificate(hostKey)
  assert.ok(!a.certificateKey.equals(b.certificateKey))
})

test('tls certificate: the libp2p extension is marked critical', async () => {
  const { der } = await generateCertificate(await generateKeyPair('Ed25519'))
  const oid = derOid(LIBP2P_EXTENSION_OID)
  const at = Buffer.from(der).indexOf(Buffer.from(oid))
  assert.ok(at > 0)
  // Right after the OID: BOOLEAN TRUE (critical).
  assert.deepEqual([...der.subarray(at + oid.length, at + oid.length + 3)], [0x01, 0x01, 0xff])
})

test('tls certificate: outside its validity dates it is rejected', async () => {
  const hostKey = await generateKeyPair('Ed25519')
  const day = 24 * 3600 * 1000
  const expired = await generateCertificate(hostKey, { notBefore: new Date(Date.now() - 10 * day), notAfter: new Date(Date.now() - day) })
  await assert.rejects(verifyCertificate(expired.der), (err: Error) => err instanceof InvalidCertificateError && /expired/.test(err.message))
  const future = await generateCertificate(hostKey, { notBefore: new Date(Date.now() + day), notAfter: new Date(Date.now() + 10 * day) })
  await assert.rejects(verifyCertificate(future.der), (err: Error) => err instanceof InvalidCertificateError && /not valid before/.test(err.message))
  // The vectors are valid until 4096 but not at 4097.
  await assert.rejects(verifyCertificate(fromHex(SPEC_VECTORS[0].der), { now: new Date('4097-01-01T00:00:00Z') }), InvalidCertificateError)
})

test('tls certificate: an unknown critical extension is rejected, an unknown non-critical one ignored', async () => {
  const hostKey = await generateKeyPair('Ed25519')
  const critical = await generateCertificate(hostKey, { extraExtensions: [{ oid: '1.2.3.4.5', critical: true, value: Uint8Array.of(5, 0) }] })
  await assert.rejects(verifyCertificate(critical.der), (err: Error) => err instanceof InvalidCertificateError && /unknown critical extension 1\.2\.3\.4\.5/.test(err.message))
  const nonCritical = await generateCertificate(hostKey, { extraExtensions: [{ oid: '1.2.3.4.5', critical: false, value: Uint8Array.of(5, 0) }] })
  assert.ok((await verifyCertificate(nonCritical.der)).peerId.equals(peerIdFromPrivateKey(hostKey)))
  const nonCriticalLibp2p = await generateCertificate(hostKey, { critical: false })
  assert.ok((await verifyCertificate(nonCriticalLibp2p.der)).peerId.equals(peerIdFromPrivateKey(hostKey)))
})

test('tls certificate: a tampered certificate fails its self-signature', async () => {
  const { der } = await generateCertificate(await generateKeyPair('Ed25519'))
  const tampered = der.slice()
  // Flip a bit inside the serial number (within the signed TBS, outside any length field).
  tampered[15] ^= 0x01
  await assert.rejects(verifyCertificate(tampered), (err: Error) => err instanceof InvalidCertificateError && /self-signature/.test(err.message))
})

test('tls certificate: random, truncated and oversized input gives InvalidCertificateError, never a crash', async () => {
  const { der } = await generateCertificate(await generateKeyPair('Ed25519'))
  for (let cut = 0; cut < der.length; cut += 7) {
    await assert.rejects(verifyCertificate(der.subarray(0, cut)), InvalidCertificateError)
  }
  for (let i = 0; i < 300; i++) {
    const mutated = der.slice()
    mutated[(i * 131) % der.length] ^= 1 << (i % 8)
    await assert.rejects(verifyCertificate(mutated), InvalidCertificateError)
  }
  await assert.rejects(verifyCertificate(new Uint8Array(MAX_CERTIFICATE_LENGTH + 1)), InvalidCertificateError)
})

test('der: OIDs and times round-trip', () => {
  for (const oid of ['1.3.6.1.4.1.53594.1.1', '1.2.840.10045.4.3.2', '2.5.29.19', '2.999.3']) {
    const encoded = derOid(oid)
    assert.equal(decodeOid(new DerReader(encoded).read(0x06)), oid)
  }
  assert.deepEqual([...derOid('1.3.6.1.4.1.53594.1.1')], [0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xa2, 0x5a, 0x01, 0x01])
  for (const iso of ['1975-01-01T13:00:00.000Z', '2049-12-31T23:59:59.000Z', '2050-01-01T00:00:00.000Z', '4096-01-01T13:00:00.000Z']) {
    assert.equal(new DerReader(derTime(new Date(iso))).readTime().toISOString(), iso)
  }
  assert.equal(derTime(new Date('2049-01-01T00:00:00Z'))[0], 0x17)
  assert.equal(derTime(new Date('2050-01-01T00:00:00Z'))[0], 0x18)
})
