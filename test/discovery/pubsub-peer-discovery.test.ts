/**
 * Hostile announcements on the discovery topic: a peer announcing someone else (the pubsub
 * signature names its author, the announcement another key) and malformed bytes are dropped
 * and counted; a genuine announcement after them still gets through. (Interop with js-libp2p:
 * test/interop/pubsub-peer-discovery.test.ts.)
 */
import { afterEach, test } from 'node:test'
import assert from 'node:assert/strict'
import { makeNode, stopAll } from '../node/helpers.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { floodsub } from '../../src/pubsub/index.ts'
import { decodeDiscoveryPeer, encodeDiscoveryPeer, pubsubPeerDiscovery, PubSubPeerDiscovery, PUBSUB_DISCOVERY_TOPIC } from '../../src/discovery/pubsub-peer-discovery.ts'
import { generateKeyPair, publicKeyToProtobuf } from '../../src/crypto/index.ts'
import type { PeerInfo } from '../../src/interface/routing.ts'
import type { PubSubBase } from '../../src/pubsub/pubsub.ts'

afterEach(stopAll)

test('forged and malformed announcements are dropped; the genuine one that follows is not', async () => {
  const listener = await makeNode({ services: { identify: identify(), pubsub: floodsub(), discovery: pubsubPeerDiscovery({ listenOnly: true }) } })
  const bKey = await generateKeyPair('Ed25519')
  const b = await makeNode({ privateKey: bKey, services: { identify: identify(), pubsub: floodsub() } })
  const pubsub = b.services.pubsub as PubSubBase
  pubsub.subscribe(PUBSUB_DISCOVERY_TOPIC)
  // b publishes only to peers it knows subscribed: wait until it heard the listener's subscription
  const subscribed = new Promise<void>(resolve => {
    pubsub.addEventListener('subscription-change', () => { if (pubsub.getSubscribers(PUBSUB_DISCOVERY_TOPIC).length > 0) resolve() })
  })
  await b.dial(listener.getMultiaddrs()[0])
  await subscribed
  const seen: PeerInfo[] = []
  const genuine = new Promise<void>(resolve => {
    listener.addEventListener('peer:discovery', evt => {
      seen.push((evt as CustomEvent<PeerInfo>).detail)
      resolve()
    })
  })
  const someoneElse = await generateKeyPair('Ed25519')
  await pubsub.publish(PUBSUB_DISCOVERY_TOPIC, encodeDiscoveryPeer(publicKeyToProtobuf(someoneElse.publicKey), [b.getMultiaddrs()[0].bytes]))
  await pubsub.publish(PUBSUB_DISCOVERY_TOPIC, new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f]))
  await pubsub.publish(PUBSUB_DISCOVERY_TOPIC, encodeDiscoveryPeer(publicKeyToProtobuf(bKey.publicKey), [b.getMultiaddrs()[0].bytes]))
  await genuine
  assert.equal(seen.length, 1)
  assert.ok(seen[0].id.equals(b.peerId))
  assert.equal((listener.services.discovery as PubSubPeerDiscovery).invalidMessages, 2)
})

test('the announcement decoder is bounded', () => {
  assert.throws(() => decodeDiscoveryPeer(new Uint8Array(100 * 1024)), /exceeds/)
  assert.throws(() => decodeDiscoveryPeer(encodeDiscoveryPeer(new Uint8Array(2000), [])), /longer|exceeds|length/i)
  assert.throws(() => decodeDiscoveryPeer(encodeDiscoveryPeer(new Uint8Array(32), Array.from({ length: 65 }, () => new Uint8Array(8)))), /more than 64/)
  assert.throws(() => decodeDiscoveryPeer(new Uint8Array(0)), /without a public key/)
})
