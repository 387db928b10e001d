/**
 * WebRTC Direct's pieces that need no network: the Noise prologue against the spec's vector
 * (webrtc-direct.md "Test vectors"), ufrag v1/v2 parsing and validation, SDP fingerprints and
 * addresses, and the listener certificate's persistence and renewal.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { fromHex, toHex } from '../../../src/util/bytes.ts'
import {
  credentialsFromStunUsername, fingerprintFromSdp, fingerprintToSdp, newClientCredentials, noisePrologue,
  serverAnswerSdp, UFRAG_V1_PREFIX, UFRAG_V2_PREFIX
} from '../../../src/transport/webrtc/direct-sdp.ts'
import { parseWebRTCDirectAddress, toWebRTCDirectMultiaddr } from '../../../src/transport/webrtc/direct-address.ts'
import { loadOrCreateDirectCertificate, CERTIFICATE_LIFETIME, RENEW_BEFORE } from '../../../src/transport/webrtc/certificate.node.ts'

test('Noise prologue: the spec vector (client = responder first, then server)', () => {
  const client = fromHex('3e79af40d6059617a0d83b83a52ce73b0c1f37a72c6043ad2969e2351bdca870')
  const server = fromHex('30fc9f469c207419dfdd0aab5f27a86c973c94e40548db9375cca2e915973b99')
  assert.equal(toHex(noisePrologue(client, server)),
    '6c69627032702d7765627274632d6e6f6973653a12203e79af40d6059617a0d83b83a52ce73b0c1f37a72c6043ad2969e2351bdca870122030fc9f469c207419dfdd0aab5f27a86c973c94e40548db9375cca2e915973b99')
})

test('ufrags: v1 and v2 credentials round-trip; malformed ones give InvalidUfragError', () => {
  const v1 = newClientCredentials(1)
  assert.ok(v1.clientUfrag.startsWith(UFRAG_V1_PREFIX))
  assert.deepEqual(credentialsFromStunUsername(v1.serverUfrag, v1.clientUfrag), v1)
  const v2 = newClientCredentials(2)
  assert.equal(v2.serverUfrag, UFRAG_V2_PREFIX + v2.clientPwd)
  assert.deepEqual(credentialsFromStunUsername(v2.serverUfrag, v2.clientUfrag), v2)
  const bad: Array<[string, string]> = [
    ['abcdefghijklmnopqrstuvwxyz', 'abcd'], // no prefix
    [`${UFRAG_V1_PREFIX}abcdefgh`, `${UFRAG_V1_PREFIX}abcdefgX`], // v1 halves differ
    [`${UFRAG_V1_PREFIX}abc def gh`, `${UFRAG_V1_PREFIX}abc def gh`], // space
    [`${UFRAG_V2_PREFIX}short`, 'abcd'], // v2 pwd < 22 chars
    [`${UFRAG_V1_PREFIX}${'a'.repeat(300)}`, 'abcd'], // > 256
    [`${UFRAG_V1_PREFIX}é${'a'.repeat(10)}`, 'abcd'],
    ['', '']
  ]
  for (const [local, remote] of bad) {
    assert.throws(() => credentialsFromStunUsername(local, remote), { name: 'InvalidUfragError', code: 'ERR_WEBRTC_INVALID_UFRAG' }, `${local}:${remote}`)
  }
})

test('SDP fingerprints and addresses', () => {
  const digest = new Uint8Array(32).map((_, i) => i * 7)
  const sdp = serverAnswerSdp({ host: '10.0.0.1', port: 4001, family: 4, ufrag: 'u'.repeat(24), pwd: 'u'.repeat(24) }, digest)
  assert.match(sdp, /^a=ice-lite\r$/m)
  assert.match(sdp, /^a=setup:passive\r$/m)
  assert.deepEqual(fingerprintFromSdp(sdp), digest)
  assert.equal(fingerprintToSdp(Uint8Array.of(0, 255, 16)), '00:FF:10')
  const addr = toWebRTCDirectMultiaddr('10.0.0.1', 4001, 4, [digest])
  const parsed = parseWebRTCDirectAddress(multiaddr(`${addr.toString()}/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA`), 'dial')
  assert.equal(parsed?.port, 4001)
  assert.deepEqual(parsed?.certhashes[0], digest)
  assert.equal(parsed?.peerId, '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA')
  // A dial needs a certhash; listening takes none; other transports are not ours.
  assert.equal(parseWebRTCDirectAddress(multiaddr('/ip4/10.0.0.1/udp/4001/webrtc-direct'), 'dial'), undefined)
  assert.ok(parseWebRTCDirectAddress(multiaddr('/ip4/10.0.0.1/udp/0/webrtc-direct'), 'listen'))
  assert.equal(parseWebRTCDirectAddress(multiaddr('/ip4/10.0.0.1/udp/4001/quic-v1'), 'listen'), undefined)
})

test('the certificate is kept across loads and renewed when less than RENEW_BEFORE is left', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'webrtc-cert-'))
  try {
    const t0 = Date.now()
    const first = await loadOrCreateDirectCertificate(dir, () => t0)
    const again = await loadOrCreateDirectCertificate(dir, () => t0 + CERTIFICATE_LIFETIME - RENEW_BEFORE - 24 * 3600_000)
    assert.deepEqual(again.fingerprint, first.fingerprint)
    const renewed = await loadOrCreateDirectCertificate(dir, () => t0 + CERTIFICATE_LIFETIME - RENEW_BEFORE + 3600_000)
    assert.notDeepEqual(renewed.fingerprint, first.fingerprint)
    assert.ok(renewed.notAfter.getTime() > first.notAfter.getTime())
    // Temporary certificates go away with their directory.
    const temp = await loadOrCreateDirectCertificate()
    await temp.dispose()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
