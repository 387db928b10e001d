import { test } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { IdentifyService, type IdentifyOptions } from '../../../src/protocols/identify/identify.ts'
import { encodeIdentify, readIdentify } from '../../../src/protocols/identify/message.ts'
import { generateKeyPair } from '../../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../../src/peer/peer-id.ts'
import { consumeSignedPeerRecord, createSignedPeerRecord } from '../../../src/peer/peer-record.ts'
import { TypedEventEmitter } from '../../../src/util/events.ts'
import type { IdentifyResult, Libp2pEvents } from '../../../src/interface/events.ts'
import { encodeLP } from '../../../src/util/stream-reader.ts'
import { utf8Decode } from '../../../src/util/bytes.ts'
import { UnexpectedPeerError } from '../../../src/util/errors.ts'
import { FakeRegistrar, connectFakePeers, fakeConnectionManager, logger, type FakeConnection } from '../../support/fake-connections.ts'
import { memoryPeerStore } from '../../support/peer-store.ts'
import { watchArmedTimers } from '../../util/armed-timers.ts'

async function makePeer (name: string, addrs: string[], options: IdentifyOptions = {}) {
  const privateKey = await generateKeyPair('Ed25519')
  const peerId = peerIdFromPrivateKey(privateKey)
  const registrar = new FakeRegistrar()
  const events = new TypedEventEmitter<Libp2pEvents>()
  const peerStore = memoryPeerStore()
  const observed: Multiaddr[] = []
  let listen = addrs.map(a => multiaddr(`${a}/p2p/${peerId.toString()}`))
  const connections: FakeConnection[] = []
  const service = new IdentifyService({
    peerId,
    privateKey,
    nodeInfo: { name: 'ts-libp2p', version: '0.0.0', userAgent: `${name}/1.0` },
    events,
    registrar,
    connectionManager: fakeConnectionManager(connections),
    peerStore,
    addressManager: {
      getAddresses: () => listen,
      addObservedAddr: (addr) => { observed.push(addr) }
    },
    logger
  }, { pushDebounce: 1, ...options })
  registrar.handle('/ipfs/ping/1.0.0', () => {})
  service.start()
  return {
    name, privateKey, peerId, registrar, events, peerStore, observed, service, connections,
    setAddrs (a: string[]) { listen = a.map(x => multiaddr(x)) }
  }
}

function nextIdentify (events: TypedEventEmitter<Libp2pEvents>): Promise<IdentifyResult> {
  return new Promise(resolve => { events.addEventListener('peer:identify', (evt) => { resolve(evt.detail) }, { once: true }) })
}

test('identify exchanges keys, protocols, addresses, versions and a signed record', async () => {
  const a = await makePeer('alice', ['/ip4/10.0.0.1/tcp/1'])
  const b = await makePeer('bob', ['/ip4/10.0.0.2/tcp/2', '/ip4/127.0.0.1/tcp/2'])
  const [ab] = connectFakePeers(a, b)
  const event = nextIdentify(a.events)
  const result = await a.service.identify(ab)
  assert.equal(await event, result)
  assert.ok(result.peerId.equals(b.peerId))
  assert.ok(result.publicKey?.equals(b.privateKey.publicKey))
  assert.deepEqual(result.protocols, ['/ipfs/id/1.0.0', '/ipfs/id/push/1.0.0', '/ipfs/ping/1.0.0'])
  assert.deepEqual(result.listenAddrs.map(String), ['/ip4/10.0.0.2/tcp/2', '/ip4/127.0.0.1/tcp/2'])
  assert.equal(result.agentVersion, 'bob/1.0')
  assert.equal(result.protocolVersion, 'ipfs/0.1.0')
  // the observed address is the address bob sees alice at, without /p2p
  assert.equal(result.observedAddr?.toString(), '/ip4/127.0.0.1/tcp/1000')
  assert.deepEqual(a.observed.map(String), ['/ip4/127.0.0.1/tcp/1000'])
  assert.ok(result.signedPeerRecord !== undefined)
  const record = await consumeSignedPeerRecord(result.signedPeerRecord, { expectedPeer: b.peerId })
  assert.deepEqual(record.multiaddrs.map(String), ['/ip4/10.0.0.2/tcp/2', '/ip4/127.0.0.1/tcp/2'])

  const stored = await a.peerStore.get(b.peerId)
  assert.deepEqual(stored.protocols, result.protocols)
  assert.ok(stored.addresses.every(x => x.isCertified))
  assert.equal(stored.addresses.length, 2)
  assert.equal(utf8Decode(stored.metadata.get('AgentVersion')!), 'bob/1.0')
  assert.equal(utf8Decode(stored.metadata.get('ProtocolVersion')!), 'ipfs/0.1.0')
  assert.ok(stored.publicKey?.equals(b.privateKey.publicKey))
})

test('identify runs by itself when a connection opens', async () => {
  const a = await makePeer('alice', [])
  const b = await makePeer('bob', ['/ip4/10.0.0.2/tcp/2'])
  const [ab] = connectFakePeers(a, b)
  const event = nextIdentify(a.events)
  a.events.safeDispatch('connection:open', ab)
  const result = await event
  assert.ok(result.peerId.equals(b.peerId))
  await a.service.stop()
  await b.service.stop()
})

test('the signed record is re-signed only when our addresses change', async () => {
  let signed = 0
  const b = await makePeer('bob', ['/ip4/10.0.0.2/tcp/2'], {
    signPeerRecord: async (key, addrs, seq) => { signed++; return await createSignedPeerRecord(key, addrs, { seq }) }
  })
  const m1 = await b.service.buildMessage()
  const m2 = await b.service.buildMessage()
  assert.equal(signed, 1)
  assert.equal(m1.signedPeerRecord, m2.signedPeerRecord)
  b.setAddrs(['/ip4/10.0.0.3/tcp/3'])
  const m3 = await b.service.buildMessage()
  assert.equal(signed, 2)
  const r1 = await consumeSignedPeerRecord(m1.signedPeerRecord!)
  const r3 = await consumeSignedPeerRecord(m3.signedPeerRecord!)
  assert.ok(r3.seq > r1.seq)
})

test('a public key that does not match the peer id fails identify with a typed error', async () => {
  const a = await makePeer('alice', [])
  const b = await makePeer('bob', [])
  const mallory = await generateKeyPair('Ed25519')
  b.registrar.unhandle('/ipfs/id/1.0.0')
  b.registrar.handle('/ipfs/id/1.0.0', async (stream) => {
    stream.send(encodeLP(encodeIdentify({ publicKey: mallory.publicKey.toProtobuf(), listenAddrs: [], protocols: ['/x'] })))
    await stream.close()
  })
  const [ab] = connectFakePeers(a, b)
  await assert.rejects(a.service.identify(ab), UnexpectedPeerError)
  assert.equal(await a.peerStore.has(b.peerId), false)
})

test('a bad signed record falls back to the unsigned listen addresses', async () => {
  const a = await makePeer('alice', [])
  const b = await makePeer('bob', [])
  const other = await generateKeyPair('Ed25519')
  const foreignRecord = await createSignedPeerRecord(other, [multiaddr('/ip4/6.6.6.6/tcp/6')])
  b.registrar.unhandle('/ipfs/id/1.0.0')
  b.registrar.handle('/ipfs/id/1.0.0', async (stream) => {
    stream.send(encodeLP(encodeIdentify({
      listenAddrs: [multiaddr('/ip4/10.9.9.9/tcp/9').bytes, Uint8Array.of(0xff, 0xff, 0xff), new Uint8Array(0)],
      protocols: ['/x', '/x'],
      signedPeerRecord: foreignRecord
    })))
    await stream.close()
  })
  const [ab] = connectFakePeers(a, b)
  const result = await a.service.identify(ab)
  assert.equal(result.signedPeerRecord, undefined)
  assert.deepEqual(result.protocols, ['/x'])
  assert.deepEqual(result.listenAddrs.map(String), ['/ip4/10.9.9.9/tcp/9'])
  const stored = await a.peerStore.get(b.peerId)
  assert.deepEqual(stored.addresses.map(x => [x.multiaddr.toString(), x.isCertified]), [['/ip4/10.9.9.9/tcp/9', false]])
})

test('a responder with a large message splits the signed record into a second frame', async () => {
  const a = await makePeer('alice', [])
  const many = Array.from({ length: 100 }, (_, i) => `/ip4/10.0.${Math.floor(i / 250)}.${i % 250}/tcp/${4000 + i}`)
  const b = await makePeer('bob', many)
  for (let i = 0; i < 150; i++) b.registrar.handle(`/some/long/protocol/name/number/${i}/1.0.0`, () => {})
  const [ab] = connectFakePeers(a, b)
  // read the raw frames
  const stream = await ab.newStream('/ipfs/id/1.0.0')
  const frames: number[] = []
  let buffered = new Uint8Array(0)
  for await (const chunk of stream) buffered = new Uint8Array([...buffered, ...chunk])
  let off = 0
  while (off < buffered.length) {
    let len = 0; let shift = 0; let b0
    do { b0 = buffered[off++]; len += (b0 & 0x7f) * 2 ** shift; shift += 7 } while (b0 & 0x80)
    frames.push(len)
    off += len
  }
  assert.equal(frames.length, 2)
  assert.ok(frames.every(f => f <= 8192), String(frames))
  // and our reader merges them back into a certified result
  const result = await a.service.identify(ab)
  assert.ok(result.signedPeerRecord !== undefined)
  assert.equal(result.listenAddrs.length, 100)
})

test('push: a self update is pushed to peers that support it; absent fields stay unchanged', async () => {
  const a = await makePeer('alice', ['/ip4/10.0.0.1/tcp/1'])
  const b = await makePeer('bob', ['/ip4/10.0.0.2/tcp/2'])
  const [ab, ba] = connectFakePeers(a, b)
  a.connections.push(ab)
  b.connections.push(ba)
  await a.service.identify(ab)
  await b.service.identify(ba)
  // alice learns a new address and a protocol, and pushes
  a.setAddrs([`/ip4/10.0.0.1/tcp/1/p2p/${a.peerId.toString()}`, `/ip4/192.168.1.1/tcp/1/p2p/${a.peerId.toString()}`])
  a.registrar.handle('/new/1.0.0', () => {})
  const pushed = nextIdentify(b.events)
  a.events.safeDispatch('self:peer:update', { peerId: a.peerId, addrs: [] })
  const result = await pushed
  assert.ok(result.protocols.includes('/new/1.0.0'))
  const stored = await b.peerStore.get(a.peerId)
  assert.deepEqual(stored.addresses.map(x => x.multiaddr.toString()).sort(), ['/ip4/10.0.0.1/tcp/1', '/ip4/192.168.1.1/tcp/1'])
  assert.ok(stored.protocols.includes('/new/1.0.0'))
  assert.equal(ab.opened.get('/ipfs/id/push/1.0.0'), 1)

  // a partial push (only an agent version) leaves protocols and addresses as they were
  const partial = await ab.newStream('/ipfs/id/push/1.0.0')
  const second = nextIdentify(b.events)
  partial.send(encodeLP(encodeIdentify({ agentVersion: 'alice/2.0', listenAddrs: [], protocols: [] })))
  await partial.closeWrite()
  await second
  const after = await b.peerStore.get(a.peerId)
  assert.deepEqual(after.protocols, stored.protocols)
  assert.equal(after.addresses.length, 2)
  assert.equal(utf8Decode(after.metadata.get('AgentVersion')!), 'alice/2.0')
  // a push never reports an observed address
  assert.equal(b.observed.length, 1)
  await a.service.stop()
  await b.service.stop()
})

test('push skips peers that do not support it', async () => {
  const a = await makePeer('alice', [])
  const b = await makePeer('bob', [])
  b.registrar.unhandle('/ipfs/id/push/1.0.0')
  const [ab] = connectFakePeers(a, b)
  a.connections.push(ab)
  await a.service.identify(ab)
  await a.service.push()
  assert.equal(ab.opened.get('/ipfs/id/push/1.0.0'), undefined)
})

test('a hostile responder (oversized frame) fails identify cleanly', async () => {
  const a = await makePeer('alice', [])
  const b = await makePeer('bob', [])
  b.registrar.unhandle('/ipfs/id/1.0.0')
  b.registrar.handle('/ipfs/id/1.0.0', async (stream) => {
    stream.send(encodeLP(new Uint8Array(9000)))
    await stream.close()
  })
  const [ab] = connectFakePeers(a, b)
  await assert.rejects(a.service.identify(ab), { name: 'MessageTooLargeError' })
  // and a silent one times out
  const c = await makePeer('carol', [], { timeout: 50 })
  b.registrar.unhandle('/ipfs/id/1.0.0')
  b.registrar.handle('/ipfs/id/1.0.0', async () => {})
  const [cb] = connectFakePeers(c, b)
  await assert.rejects(c.service.identify(cb), { name: 'TimeoutError' })
  void readIdentify
})

test('finished identify exchanges leave no timeout timer behind (asking and answering)', async () => {
  const TIMEOUT = 23_456
  const a = await makePeer('alice', ['/ip4/10.0.0.1/tcp/1'], { timeout: TIMEOUT })
  const b = await makePeer('bob', ['/ip4/10.0.0.2/tcp/2'], { timeout: TIMEOUT })
  const [ab] = connectFakePeers(a, b)
  const timers = watchArmedTimers(TIMEOUT)
  try {
    for (let i = 0; i < 3; i++) await a.service.identify(ab)
    // the responder's side finishes once its stream is closed
    await new Promise(resolve => setImmediate(resolve))
  } finally {
    timers.restore()
  }
  assert.equal(timers.armed.size, 0, `${timers.armed.size} identify timeout timers still armed`)
  await a.service.stop()
  await b.service.stop()
})

test('a flood of identify pushes on one connection is cut to the budget: the rest are reset unread', async () => {
  const a = await makePeer('alice', [])
  const b = await makePeer('bob', [], { inboundBudget: { burst: 3, perSecond: 0.001 } })
  const [ab] = connectFakePeers(a, b)
  let identified = 0
  let resolveThree!: () => void
  const three = new Promise<void>(resolve => { resolveThree = resolve })
  b.events.addEventListener('peer:identify', () => { if (++identified === 3) resolveThree() })
  const outcomes: string[] = []
  for (let i = 0; i < 5; i++) {
    try {
      const stream = await ab.newStream('/ipfs/id/push/1.0.0')
      stream.send(encodeLP(encodeIdentify({ agentVersion: `alice/${i}`, listenAddrs: [], protocols: [] })))
      await stream.closeWrite()
      for await (const _ of stream) { /* the receiver sends nothing back */ }
      outcomes.push('read')
    } catch (err) {
      outcomes.push((err as Error).name)
    }
  }
  assert.deepEqual(outcomes.slice(3).map(o => o !== 'read'), [true, true], `pushes past the budget are reset: ${outcomes.join(', ')}`)
  await three
  assert.equal(identified, 3)
  assert.equal(utf8Decode((await b.peerStore.get(a.peerId)).metadata.get('AgentVersion')!), 'alice/2')
  await a.service.stop()
  await b.service.stop()
})
