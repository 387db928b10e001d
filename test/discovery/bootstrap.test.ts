import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Multiaddr } from '@multiformats/multiaddr'
import { Bootstrap } from '../../src/discovery/bootstrap.ts'
import { generateKeyPair } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { TypedEventEmitter } from '../../src/util/events.ts'
import type { Libp2pEvents } from '../../src/interface/events.ts'
import type { ConnectionManager } from '../../src/interface/connection-manager.ts'
import type { Connection } from '../../src/interface/connection.ts'
import { InvalidMultiaddrError } from '../../src/util/errors.ts'
import { memoryPeerStore } from '../support/peer-store.ts'
import { logger } from '../../src/util/logger.ts'

async function setup (failures: number) {
  const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const addr = `/ip4/127.0.0.1/tcp/4001/p2p/${peerId.toString()}`
  const events = new TypedEventEmitter<Libp2pEvents>()
  const peerStore = memoryPeerStore()
  const dials: Array<{ at: number, addrs: Multiaddr[] }> = []
  let connected = false
  let remaining = failures
  const waiters: Array<() => void> = []
  const connectionManager: ConnectionManager = {
    async openConnection (target) {
      dials.push({ at: performance.now(), addrs: target as Multiaddr[] })
      for (const w of waiters.splice(0)) w()
      if (remaining-- > 0) throw new Error('connection refused')
      connected = true
      return { remotePeer: peerId } as unknown as Connection
    },
    getConnections: () => connected ? [{ remotePeer: peerId } as unknown as Connection] : [],
    async closeConnections () {}
  }
  const service = new Bootstrap({ connectionManager, events, peerStore, logger }, { list: [addr], initialBackoff: 10, maxBackoff: 40 })
  const dialCount = async (n: number): Promise<void> => {
    while (dials.length < n) await new Promise<void>(resolve => { waiters.push(resolve) })
  }
  return { peerId, events, peerStore, dials, service, dialCount, disconnect: () => { connected = false; events.safeDispatch('peer:disconnect', peerId) } }
}

test('bootstrap records the peer, announces it, dials after start and retries with growing backoff', async () => {
  const s = await setup(3)
  const discovered: string[] = []
  s.events.addEventListener('peer:discovery', evt => { discovered.push(evt.detail.id.toString()) })
  await s.service.start()
  assert.deepEqual(discovered, [s.peerId.toString()])
  const stored = await s.peerStore.get(s.peerId)
  assert.equal(stored.addresses.length, 1)
  s.service.afterStart()
  await s.dialCount(4)
  const gaps = s.dials.slice(1).map((d, i) => d.at - s.dials[i].at)
  assert.ok(gaps[0] >= 9 && gaps[1] >= 19 && gaps[2] >= 39, `gaps ${gaps.join(',')}`)
  assert.deepEqual(s.service.peers.map(String), [s.peerId.toString()])
  s.service.stop()
})

test('bootstrap redials a bootstrap peer that disconnected, and stops redialing once stopped', async () => {
  const s = await setup(0)
  await s.service.start()
  s.service.afterStart()
  await s.dialCount(1)
  s.disconnect()
  await s.dialCount(2)
  s.service.stop()
  s.disconnect()
  await new Promise(resolve => setTimeout(resolve, 50))
  assert.equal(s.dials.length, 2)
})

test('a malformed bootstrap address is a typed error', () => {
  assert.throws(() => new Bootstrap({ logger } as never, { list: ['/ip4/not-an-ip/tcp/1'] }), InvalidMultiaddrError)
})
