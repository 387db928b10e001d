import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair, generateKeyPairFromSeed } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { createSignedPeerRecord } from '../../src/peer/peer-record.ts'
import { MemoryDatastore } from '../../src/store/memory.ts'
import { SqliteDatastore } from '../../src/store/sqlite.node.ts'
import { PersistentPeerStore, peerKey, MAX_ADDRESSES_PER_PEER, MAX_PROTOCOLS_PER_PEER } from '../../src/peer-store/index.ts'
import type { PersistentPeerStoreInit } from '../../src/peer-store/index.ts'
import type { Peer } from '../../src/interface/peer-store.ts'
import type { PeerId } from '../../src/interface/peer-id.ts'
import type { PrivateKey } from '../../src/interface/keys.ts'
import { decodeStoredPeer } from '../../src/peer-store/stored-peer.ts'
import { Ed25519PublicKey } from '../../src/crypto/ed25519.ts'

const root = mkdtempSync(join(tmpdir(), 'ts-libp2p-peer-store-'))
after(() => { rmSync(root, { recursive: true, force: true }) })

const ma = multiaddr
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b)

async function newPeer (): Promise<{ key: PrivateKey, id: PeerId }> {
  const key = await generateKeyPair('Ed25519')
  return { key, id: peerIdFromPrivateKey(key) }
}

function seeded (n: number): { key: PrivateKey, id: PeerId } {
  const key = generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(n))
  return { key, id: peerIdFromPrivateKey(key) }
}

const self = seeded(1)

function makeStore (init: Partial<PersistentPeerStoreInit> = {}): { store: PersistentPeerStore, datastore: PersistentPeerStoreInit['datastore'], clock: { now: number } } {
  const clock = { now: 1_000_000 }
  const datastore = init.datastore ?? new MemoryDatastore()
  const store = new PersistentPeerStore({ datastore, peerId: self.id, clock: () => clock.now, ...init })
  return { store, datastore, clock }
}

const addrStrings = (peer: Peer): string[] => peer.addresses.map(a => a.multiaddr.toString())

test('an unknown peer is not found', async () => {
  const { store } = makeStore()
  const { id } = await newPeer()
  assert.equal(await store.has(id), false)
  await assert.rejects(store.get(id), { code: 'ERR_NOT_FOUND' })
})

test('save then get returns what was saved; the public key comes from an inlined id', async () => {
  const { store } = makeStore()
  const { id } = await newPeer()
  const saved = await store.save(id, {
    multiaddrs: [ma('/ip4/1.2.3.4/tcp/4001')],
    protocols: ['/b/1', '/a/1', '/a/1'],
    metadata: { agent: bytes(1, 2) },
    tags: { friend: { value: 50 } }
  })
  const got = await store.get(id)
  assert.deepEqual(addrStrings(got), ['/ip4/1.2.3.4/tcp/4001'])
  assert.equal(got.addresses[0].isCertified, false)
  assert.deepEqual(got.protocols, ['/a/1', '/b/1'])
  assert.deepEqual(got.metadata.get('agent'), bytes(1, 2))
  assert.deepEqual(got.tags.get('friend'), { value: 50 })
  assert.ok(got.publicKey?.equals(id.publicKey as NonNullable<typeof id.publicKey>))
  assert.deepEqual(saved.protocols, got.protocols)
  assert.equal(await store.has(id), true)
  // Returned objects are copies: mutating them does not change the store.
  got.protocols.push('/evil')
  got.metadata.set('x', bytes(9))
  assert.deepEqual((await store.get(id)).protocols, ['/a/1', '/b/1'])
  assert.equal((await store.get(id)).metadata.has('x'), false)
})

test('save replaces the whole record, patch only the given fields; merge adds to them', async () => {
  const { store } = makeStore()
  const { id } = await newPeer()
  await store.save(id, { multiaddrs: [ma('/ip4/1.1.1.1/tcp/1')], protocols: ['/p/1'], metadata: { a: bytes(1), b: bytes(2) } })
  await store.save(id, { multiaddrs: [ma('/ip4/2.2.2.2/tcp/2')] })
  let peer = await store.get(id)
  assert.deepEqual(addrStrings(peer), ['/ip4/2.2.2.2/tcp/2'])
  assert.deepEqual(peer.protocols, [], 'save clears the fields not given')
  assert.equal(peer.metadata.size, 0)
  await store.patch(id, { protocols: ['/p/1'], metadata: { a: bytes(1), b: bytes(2) } })
  await store.patch(id, { multiaddrs: [ma('/ip4/2.2.2.2/tcp/2')] })
  peer = await store.get(id)
  assert.deepEqual(peer.protocols, ['/p/1'], 'patch keeps the fields not given')
  await store.patch(id, { metadata: new Map([['c', bytes(3)]]) })
  peer = await store.get(id)
  assert.deepEqual([...peer.metadata.keys()], ['c'], 'a given map is replaced')
  await store.merge(id, { multiaddrs: [ma('/ip4/3.3.3.3/tcp/3'), ma('/ip4/2.2.2.2/tcp/2')], protocols: ['/p/2'], metadata: { d: bytes(4), c: undefined } })
  peer = await store.get(id)
  assert.deepEqual(addrStrings(peer), ['/ip4/2.2.2.2/tcp/2', '/ip4/3.3.3.3/tcp/3'])
  assert.deepEqual(peer.protocols, ['/p/1', '/p/2'])
  assert.deepEqual([...peer.metadata.keys()], ['d'])
  await store.save(id, { protocols: [] })
  assert.deepEqual((await store.get(id)).protocols, [])
})

test('addresses and tags expire; expired entries leave storage at the next write', async () => {
  const { store, datastore, clock } = makeStore()
  const { id } = await newPeer()
  await store.merge(id, { multiaddrs: [ma('/ip4/1.1.1.1/tcp/1')], addressTtl: 1000 })
  await store.merge(id, { multiaddrs: [ma('/ip4/2.2.2.2/tcp/2')] })
  await store.merge(id, { tags: { short: { value: 10, expires: clock.now + 500 }, long: { value: 20 } } })
  let peer = await store.get(id)
  assert.equal(peer.addresses.length, 2)
  assert.equal(peer.addresses[0].expires, clock.now + 1000)
  clock.now += 600
  peer = await store.get(id)
  assert.deepEqual([...peer.tags.keys()], ['long'])
  assert.equal(peer.addresses.length, 2)
  clock.now += 500
  peer = await store.get(id)
  assert.deepEqual(addrStrings(peer), ['/ip4/2.2.2.2/tcp/2'])
  // Still stored until the next write...
  assert.equal(decodeStoredPeer(await datastore.get(peerKey(id)) as Uint8Array).addresses.length, 2)
  await store.merge(id, { protocols: ['/x'] })
  const stored = decodeStoredPeer(await datastore.get(peerKey(id)) as Uint8Array)
  assert.equal(stored.addresses.length, 1)
  assert.deepEqual([...stored.tags.keys()], ['long'])
  // A merge extends a TTL, and an address without expiry beats any TTL.
  await store.merge(id, { multiaddrs: [ma('/ip4/3.3.3.3/tcp/3')], addressTtl: 100 })
  await store.merge(id, { multiaddrs: [ma('/ip4/3.3.3.3/tcp/3')], addressTtl: 5000 })
  assert.equal((await store.get(id)).addresses.find(a => a.multiaddr.toString() === '/ip4/3.3.3.3/tcp/3')?.expires, clock.now + 5000)
  await store.merge(id, { addresses: [{ multiaddr: ma('/ip4/3.3.3.3/tcp/3'), isCertified: false }] })
  assert.equal((await store.get(id)).addresses.find(a => a.multiaddr.toString() === '/ip4/3.3.3.3/tcp/3')?.expires, undefined)
})

test('signed peer records: certified addresses replace others, older records are ignored', async () => {
  const { store } = makeStore()
  const { key, id } = await newPeer()
  await store.merge(id, { multiaddrs: [ma('/ip4/9.9.9.9/tcp/9')] })
  const record10 = await createSignedPeerRecord(key, [ma('/ip4/1.1.1.1/tcp/1'), ma('/ip6/::1/tcp/2')], { seq: 10n })
  assert.equal(await store.consumePeerRecord(record10, id), true)
  let peer = await store.get(id)
  assert.deepEqual(addrStrings(peer), ['/ip4/1.1.1.1/tcp/1', '/ip6/::1/tcp/2'])
  assert.ok(peer.addresses.every(a => a.isCertified))
  assert.deepEqual(peer.peerRecordEnvelope, record10)
  // Hearsay does not add to a certified address list...
  await store.merge(id, { multiaddrs: [ma('/ip4/8.8.8.8/tcp/8')] })
  assert.deepEqual(addrStrings(await store.get(id)), ['/ip4/1.1.1.1/tcp/1', '/ip6/::1/tcp/2'])
  // ...nor does an older or the same record.
  const record5 = await createSignedPeerRecord(key, [ma('/ip4/5.5.5.5/tcp/5')], { seq: 5n })
  assert.equal(await store.consumePeerRecord(record5, id), false)
  assert.equal(await store.consumePeerRecord(record10, id), false)
  const record11 = await createSignedPeerRecord(key, [ma('/ip4/11.11.11.11/tcp/11')], { seq: 11n })
  assert.equal(await store.consumePeerRecord(record11), true)
  peer = await store.get(id)
  assert.deepEqual(addrStrings(peer), ['/ip4/11.11.11.11/tcp/11'])
  assert.deepEqual(peer.peerRecordEnvelope, record11)
})

test('signed peer record addresses ending in /p2p/<the peer> are stored without it; another peer\'s are dropped', async () => {
  // py-libp2p 0.8 signs its addresses with its own /p2p suffix
  const { store } = makeStore()
  const { key, id } = await newPeer()
  const other = (await newPeer()).id
  const record = await createSignedPeerRecord(key, [
    ma(`/ip4/1.1.1.1/tcp/1/p2p/${id.toString()}`),
    ma('/ip4/2.2.2.2/tcp/2'),
    ma(`/ip4/3.3.3.3/tcp/3/p2p/${other.toString()}`),
    ma(`/ip4/4.4.4.4/tcp/4/p2p/${other.toString()}/p2p-circuit/p2p/${id.toString()}`)
  ], { seq: 1n })
  assert.equal(await store.consumePeerRecord(record, id), true)
  assert.deepEqual(addrStrings(await store.get(id)), ['/ip4/1.1.1.1/tcp/1', '/ip4/2.2.2.2/tcp/2', `/ip4/4.4.4.4/tcp/4/p2p/${other.toString()}/p2p-circuit`])
})

test('the stored peer record again is accepted without a second signature check', async () => {
  const { store } = makeStore()
  const { key, id } = await newPeer()
  const record = await createSignedPeerRecord(key, [ma('/ip4/1.1.1.1/tcp/1')], { seq: 7n })
  const verify = Ed25519PublicKey.prototype.verify
  let verified = 0
  Ed25519PublicKey.prototype.verify = function (data: Uint8Array, signature: Uint8Array) { verified++; return verify.call(this, data, signature) }
  try {
    assert.equal(await store.consumePeerRecord(record, id), true)
    assert.equal(verified, 1)
    assert.equal(await store.consumePeerRecord(record.slice(), id), false)
    assert.equal(verified, 1)
    // anything else is still checked: a newer record, or the same one with a flipped bit
    const newer = await createSignedPeerRecord(key, [ma('/ip4/2.2.2.2/tcp/2')], { seq: 8n })
    assert.equal(await store.consumePeerRecord(newer, id), true)
    assert.equal(verified, 2)
    const tampered = newer.slice()
    tampered[tampered.length - 1] ^= 1
    await assert.rejects(store.consumePeerRecord(tampered, id), (err: Error & { code?: string }) => typeof err.code === 'string' && err.code.startsWith('ERR_'))
    assert.deepEqual(addrStrings(await store.get(id)), ['/ip4/2.2.2.2/tcp/2'])
  } finally {
    Ed25519PublicKey.prototype.verify = verify
  }
})

test('a peer record from another peer than expected is refused; garbage is a typed error', async () => {
  const { store } = makeStore()
  const alice = await newPeer()
  const bob = await newPeer()
  const record = await createSignedPeerRecord(alice.key, [ma('/ip4/1.1.1.1/tcp/1')], { seq: 1n })
  await assert.rejects(store.consumePeerRecord(record, bob.id), { code: 'ERR_UNEXPECTED_PEER' })
  assert.equal(await store.has(alice.id), false)
  assert.equal(await store.has(bob.id), false)
  await assert.rejects(store.consumePeerRecord(bytes(1, 2, 3, 4)), (err: Error & { code?: string }) => typeof err.code === 'string' && err.code.startsWith('ERR_'))
  const tampered = record.slice()
  tampered[tampered.length - 1] ^= 1
  await assert.rejects(store.consumePeerRecord(tampered), (err: Error & { code?: string }) => typeof err.code === 'string' && err.code.startsWith('ERR_'))
  // Through save: a record must be about the peer being saved.
  await assert.rejects(store.save(bob.id, { peerRecordEnvelope: record }), { code: 'ERR_UNEXPECTED_PEER' })
  await store.save(alice.id, { peerRecordEnvelope: record })
  assert.ok((await store.get(alice.id)).addresses[0].isCertified)
})

test('data survives a new store over the same SQLite datastore', async () => {
  const dir = join(root, 'persist')
  const { key, id } = await newPeer()
  const rsaLike = await generateKeyPair('secp256k1')
  const other = peerIdFromPrivateKey(rsaLike)
  {
    const datastore = new SqliteDatastore(dir)
    const { store } = makeStore({ datastore })
    await store.save(id, { protocols: ['/ipfs/id/1.0.0'], metadata: { AgentVersion: bytes(65, 66) }, tags: { keep: { value: 100, expires: 2_000_000 } } })
    await store.consumePeerRecord(await createSignedPeerRecord(key, [ma('/ip4/1.2.3.4/tcp/5')], { seq: 3n }), id)
    await store.save(other, { publicKey: rsaLike.publicKey, multiaddrs: [ma('/dns4/example.com/tcp/443/wss')] })
    await datastore.close()
  }
  const datastore = new SqliteDatastore(dir)
  const { store } = makeStore({ datastore })
  const peer = await store.get(id)
  assert.deepEqual(peer.protocols, ['/ipfs/id/1.0.0'])
  assert.deepEqual(peer.metadata.get('AgentVersion'), bytes(65, 66))
  assert.deepEqual(peer.tags.get('keep'), { value: 100, expires: 2_000_000 })
  assert.deepEqual(addrStrings(peer), ['/ip4/1.2.3.4/tcp/5'])
  assert.equal(peer.addresses[0].isCertified, true)
  // The stored seq still guards against replays after a restart.
  assert.equal(await store.consumePeerRecord(await createSignedPeerRecord(key, [ma('/ip4/6.6.6.6/tcp/6')], { seq: 2n })), false)
  const second = await store.get(other)
  assert.ok(second.publicKey?.equals(rsaLike.publicKey))
  assert.deepEqual(addrStrings(second), ['/dns4/example.com/tcp/443/wss'])
  assert.deepEqual((await store.all()).map(p => p.id.toString()).sort(), [id.toString(), other.toString()].sort())
  await datastore.close()
})

test('a corrupt stored record: get fails typed, all() skips it, a write repairs it', async () => {
  const { store, datastore } = makeStore()
  const good = await newPeer()
  const bad = await newPeer()
  await store.save(good.id, { protocols: ['/ok'] })
  await datastore.put(peerKey(bad.id), bytes(0x0a, 0xff, 0xff, 0xff, 0x0f))
  await datastore.put('/peers/not-a-peer-id', bytes(0x12, 0x00))
  await assert.rejects(store.get(bad.id), { code: 'ERR_INVALID_MESSAGE' })
  assert.deepEqual((await store.all()).map(p => p.id.toString()), [good.id.toString()])
  await store.merge(bad.id, { protocols: ['/fixed'] })
  assert.deepEqual((await store.get(bad.id)).protocols, ['/fixed'])
})

test('the stored-peer decoder survives random, truncated and oversized input', () => {
  const valid = new Uint8Array([
    0x0a, 0x0a, 0x0a, 0x08, ...ma('/ip4/1.2.3.4/tcp/1').bytes, // an address (8 bytes of multiaddr)
    0x12, 0x02, 0x2f, 0x61, // protocol '/a'
    0x1a, 0x07, 0x0a, 0x01, 0x6b, 0x12, 0x02, 0x01, 0x02, // metadata k = 01 02
    0x22, 0x05, 0x0a, 0x01, 0x74, 0x10, 0x05, // tag t = 5
    0x40, 0x07 // updated
  ])
  const decoded = decodeStoredPeer(valid)
  assert.equal(decoded.addresses[0].multiaddr.toString(), '/ip4/1.2.3.4/tcp/1')
  assert.deepEqual(decoded.protocols, ['/a'])
  assert.deepEqual(decoded.tags.get('t'), { value: 5 })
  const allowed = new Set(['ERR_INVALID_MESSAGE'])
  const check = (input: Uint8Array): void => {
    try {
      decodeStoredPeer(input)
    } catch (err) {
      assert.ok(allowed.has((err as { code?: string }).code ?? ''), `unexpected ${(err as Error).stack}`)
    }
  }
  for (let i = 0; i < valid.length; i++) check(valid.subarray(0, i))
  let seed = 12345
  const rand = (): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 16 }
  for (let n = 0; n < 3000; n++) {
    const input = new Uint8Array(rand() % 64)
    for (let i = 0; i < input.length; i++) input[i] = rand() & 0xff
    check(input)
    const mutated = valid.slice()
    mutated[rand() % mutated.length] = rand() & 0xff
    check(mutated)
  }
  // Too many addresses, a huge declared length, a tag value above 100.
  const many: number[] = []
  for (let i = 0; i <= MAX_ADDRESSES_PER_PEER; i++) many.push(0x0a, 0x0a, 0x0a, 0x08, ...ma('/ip4/1.2.3.4/tcp/1').bytes)
  assert.throws(() => decodeStoredPeer(Uint8Array.from(many)), { code: 'ERR_INVALID_MESSAGE' })
  assert.throws(() => decodeStoredPeer(bytes(0x32, 0xff, 0xff, 0xff, 0xff, 0x0f)), { code: 'ERR_INVALID_MESSAGE' })
  assert.throws(() => decodeStoredPeer(bytes(0x22, 0x05, 0x0a, 0x01, 0x74, 0x10, 0x65)), { code: 'ERR_INVALID_MESSAGE' })
  assert.throws(() => decodeStoredPeer(bytes(0x2a, 0x02, 0x08, 0x09)), { code: 'ERR_INVALID_MESSAGE' })
})

test('all() leaves out this node and honours filter and limit', async () => {
  const { store } = makeStore()
  await store.save(self.id, { protocols: ['/self'] })
  const others = [await newPeer(), await newPeer(), await newPeer()]
  for (const [i, p] of others.entries()) await store.save(p.id, { protocols: [`/p/${i}`] })
  assert.equal((await store.all()).length, 3)
  assert.deepEqual((await store.all({ filter: (peer) => peer.protocols.includes('/p/1') })).map(p => p.id.toString()), [others[1].id.toString()])
  assert.equal((await store.all({ limit: 2 })).length, 2)
  assert.deepEqual((await store.get(self.id)).protocols, ['/self'])
})

test('onPeerUpdate reports changes with the previous state, and only real changes', async () => {
  const updates: Array<{ peer: Peer, previous: Peer | undefined }> = []
  const { store } = makeStore({ onPeerUpdate: (peer, previous) => { updates.push({ peer, previous }) } })
  const { id } = await newPeer()
  await store.merge(id, { protocols: ['/a'] })
  await store.merge(id, { protocols: ['/a'] })
  await store.merge(id, { protocols: ['/b'] })
  assert.equal(updates.length, 2)
  assert.equal(updates[0].previous, undefined)
  assert.deepEqual(updates[1].previous?.protocols, ['/a'])
  assert.deepEqual(updates[1].peer.protocols, ['/a', '/b'])
})

test('merging addresses already stored writes nothing; a merge that would change one still does', async () => {
  const updates: Peer[] = []
  const { store, datastore, clock } = makeStore({ onPeerUpdate: (peer) => { updates.push(peer) } })
  let puts = 0
  const put = datastore.put.bind(datastore)
  datastore.put = async (...args: Parameters<typeof put>) => { puts++; return await put(...args) }
  const { id } = await newPeer()
  await store.merge(id, { multiaddrs: [ma('/ip4/1.2.3.4/tcp/1')], tags: { t: { value: 1, expires: clock.now + 1000 } } })
  await store.merge(id, { multiaddrs: [ma('/ip4/1.2.3.4/udp/2/quic-v1')], addressTtl: 5000 })
  assert.equal(puts, 2)
  // known, no expiry: nothing to write, the stored peer comes back
  const same = await store.merge(id, { multiaddrs: [ma('/ip4/1.2.3.4/tcp/1')] })
  assert.deepEqual(addrStrings(same).sort(), ['/ip4/1.2.3.4/tcp/1', '/ip4/1.2.3.4/udp/2/quic-v1'])
  assert.equal(same.tags.get('t')?.value, 1)
  assert.equal(puts, 2)
  assert.equal(updates.length, 2)
  // known with an expiry: merging it without one makes it permanent, which is written
  await store.merge(id, { multiaddrs: [ma('/ip4/1.2.3.4/udp/2/quic-v1')] })
  assert.equal(puts, 3)
  assert.equal((await store.get(id)).addresses.find(a => a.multiaddr.toString().includes('quic'))?.expires, undefined)
  // certified now: written
  await store.merge(id, { addresses: [{ multiaddr: ma('/ip4/1.2.3.4/tcp/1'), isCertified: true }] })
  assert.equal(puts, 4)
  // the tag expired: the merge drops it, which is written
  clock.now += 2000
  await store.merge(id, { multiaddrs: [ma('/ip4/1.2.3.4/tcp/1')] })
  assert.equal(puts, 5)
  assert.equal((await store.get(id)).tags.has('t'), false)
})

test('concurrent merges on one peer lose nothing', async () => {
  const { store } = makeStore()
  const { id } = await newPeer()
  await Promise.all(Array.from({ length: 50 }, async (_, i) => await store.merge(id, { protocols: [`/p/${i}`], tags: { [`t${i}`]: { value: 1 } } })))
  const peer = await store.get(id)
  assert.equal(peer.protocols.length, 50)
  assert.equal(peer.tags.size, 50)
})

test('limits: addresses are capped, other excess is refused with a typed error', async () => {
  const { store } = makeStore()
  const { id } = await newPeer()
  const addrs = Array.from({ length: MAX_ADDRESSES_PER_PEER + 10 }, (_, i) => ma(`/ip4/10.0.${i >> 8}.${i & 0xff}/tcp/1`))
  await store.merge(id, { multiaddrs: addrs })
  const peer = await store.get(id)
  assert.equal(peer.addresses.length, MAX_ADDRESSES_PER_PEER)
  assert.equal(peer.addresses.at(-1)?.multiaddr.toString(), addrs.at(-1)?.toString(), 'the newest addresses are kept')
  await assert.rejects(store.merge(id, { protocols: Array.from({ length: MAX_PROTOCOLS_PER_PEER + 1 }, (_, i) => `/p/${i}`) }), { code: 'ERR_LIMIT_EXCEEDED' })
  await assert.rejects(store.merge(id, { metadata: { big: new Uint8Array(1024 * 1024) } }), { code: 'ERR_LIMIT_EXCEEDED' })
  await assert.rejects(store.merge(id, { tags: { t: { value: 101 } } }), { code: 'ERR_INVALID_PARAMETERS' })
  await assert.rejects(store.merge(id, { protocols: [''] }), { code: 'ERR_INVALID_PARAMETERS' })
  const stranger = await newPeer()
  await assert.rejects(store.merge(id, { publicKey: stranger.key.publicKey }), { code: 'ERR_INVALID_PARAMETERS' })
  // The refused updates changed nothing.
  assert.equal((await store.get(id)).protocols.length, 0)
})

test('delete removes the peer', async () => {
  const { store } = makeStore()
  const { id } = await newPeer()
  await store.save(id, { protocols: ['/a'] })
  await store.delete(id)
  assert.equal(await store.has(id), false)
  await assert.rejects(store.get(id), { code: 'ERR_NOT_FOUND' })
})

test('an aborted signal stops a write', async () => {
  const { store } = makeStore()
  const { id } = await newPeer()
  await assert.rejects(store.merge(id, { protocols: ['/a'] }, { signal: AbortSignal.abort() }))
  assert.equal(await store.has(id), false)
})
