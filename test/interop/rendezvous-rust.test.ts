/**
 * Rendezvous and signed peer records between ts and rust-libp2p 0.57.1 (interop/rust-peer),
 * asserting exactly what happens, which is a failure both ways: rust signs its peer records
 * for its legacy domain `libp2p-routing-state` with payload type `/libp2p/routing-state-record`
 * (rust-libp2p issue 6204), where RFC 0003 / peer-record.md says `libp2p-peer-record` and
 * 0x0301. We never accept such a record; these tests pin the facts and the errors, so the day
 * rust signs RFC 0003 records they fail and say so.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from '../../src/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { readIdentify } from '../../src/protocols/identify/message.ts'
import { rendezvous, rendezvousServer, RendezvousClient } from '../../src/discovery/rendezvous/index.ts'
import { decodeEnvelope, openAndVerify } from '../../src/peer/envelope.ts'
import { consumeSignedPeerRecord, LEGACY_ROUTING_STATE_DOMAIN, LegacyPeerRecordError, PEER_RECORD_DOMAIN } from '../../src/peer/peer-record.ts'
import { utf8Decode } from '../../src/util/bytes.ts'
import { InvalidSignatureError } from '../../src/util/errors.ts'
import { cargoAvailable, spawnPeer, stopAll } from './harness.ts'

after(async () => { await stopAll() })

const skip = await cargoAvailable() ? false : 'no cargo toolchain (the rust peer is built with cargo)'
const BUILD_MS = 1_800_000

test('rust signs its identify peer record for the legacy domain, and we refuse it with a typed error naming that domain', { skip, timeout: BUILD_MS }, async (t) => {
  const node = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()] })
  t.after(async () => { await node.stop() })
  const rust = await spawnPeer('rust', [], { readyTimeoutMs: BUILD_MS })
  const connection = await node.dial(multiaddr(rust.addrs[0]))
  // identify by hand, to hold rust's envelope bytes as sent
  const stream = await connection.newStream('/ipfs/id/1.0.0')
  const message = await readIdentify(stream, { signal: AbortSignal.timeout(10_000) })
  const record = message.signedPeerRecord
  assert.ok(record !== undefined, 'rust sends a signed peer record in identify')

  assert.equal(utf8Decode(decodeEnvelope(record).payloadType), '/libp2p/routing-state-record')
  await openAndVerify(record, LEGACY_ROUTING_STATE_DOMAIN) // verifies: this is the domain it signed for
  await assert.rejects(openAndVerify(record, PEER_RECORD_DOMAIN), InvalidSignatureError)
  await assert.rejects(consumeSignedPeerRecord(record, { expectedPeer: connection.remotePeer }), (err: Error & { code?: string }) => {
    assert.ok(err instanceof LegacyPeerRecordError, String(err))
    assert.equal(err.code, 'ERR_LEGACY_PEER_RECORD')
    assert.match(err.message, /signed for domain "libp2p-routing-state"/)
    return true
  })
})

test('rendezvous: a rust client registering at our point is refused with E_INVALID_SIGNED_PEER_RECORD', { skip, timeout: BUILD_MS }, async (t) => {
  const point = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    services: { identify: identify(), rendezvousServer: rendezvousServer() }
  })
  const client = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    services: { identify: identify(), rendezvous: rendezvous() }
  })
  t.after(async () => { await Promise.all([point.stop(), client.stop()]) })
  const rust = await spawnPeer('rust', [], { readyTimeoutMs: BUILD_MS })
  const pointAddr = point.getMultiaddrs()[0].toString()
  await rust.commandOk({ cmd: 'dial', addr: pointAddr })

  const refused = await rust.command({ cmd: 'rendezvous.register', peer: point.peerId.toString(), namespace: 'rust-app', ttl: 7200 })
  assert.equal(refused.ok, false)
  // rust reports our status code, 101 E_INVALID_SIGNED_PEER_RECORD (its client drops the text)
  assert.match(String(refused.error), /registration refused: InvalidSignedPeerRecord/)
  // nothing was registered: a ts client discovers no one there
  const rv = client.services.rendezvous as RendezvousClient
  const found = await rv.discover(pointAddr, 'rust-app')
  assert.deepEqual(found.peers, [])
})

test('rendezvous: our REGISTER at a rust point is reset (rust cannot verify an RFC 0003 record), and rust answers DISCOVER', { skip, timeout: BUILD_MS }, async (t) => {
  const client = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    services: { identify: identify(), rendezvous: rendezvous() }
  })
  t.after(async () => { await client.stop() })
  const rust = await spawnPeer('rust', ['--rendezvous-server'], { readyTimeoutMs: BUILD_MS })
  const rv = client.services.rendezvous as RendezvousClient
  // rust's server fails to verify our record and drops the stream (yamux RST) without an answer
  await assert.rejects(rv.register(rust.addrs[0], 'ts-app'), (err: Error & { code?: string }) => {
    assert.equal(err.name, 'StreamResetError', String(err))
    assert.equal(err.code, 'ERR_STREAM_RESET')
    return true
  })
  // the protocol itself works: rust answers a DISCOVER, with no one registered
  const found = await rv.discover(rust.addrs[0], 'ts-app')
  assert.deepEqual(found.peers, [])
})
