import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { RoutingTable } from '../../src/dht/routing-table.ts'
import { commonPrefixLength, compareDistance, randomKeyForBucket, toKadId } from '../../src/dht/distance.ts'
import { generateKeyPair } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import type { PeerId } from '../../src/interface/peer-id.ts'

async function peers (n: number): Promise<PeerId[]> {
  return await Promise.all(Array.from({ length: n }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))))
}

describe('distance', () => {
  it('orders by XOR of sha256 images and counts common prefix bits', () => {
    const t = new Uint8Array(32)
    const a = new Uint8Array(32); a[31] = 1
    const b = new Uint8Array(32); b[0] = 0x80
    assert.ok(compareDistance(a, b, t) < 0)
    assert.equal(compareDistance(a, a, t), 0)
    assert.equal(commonPrefixLength(t, b), 0)
    assert.equal(commonPrefixLength(t, a), 255)
    assert.equal(commonPrefixLength(t, t), 256)
  })

  it('makes refresh keys that land in the requested bucket', () => {
    const self = toKadId(Uint8Array.of(1, 2, 3))
    for (const cpl of [0, 1, 5, 9]) assert.equal(commonPrefixLength(toKadId(randomKeyForBucket(self, cpl)), self), cpl)
  })
})

describe('routing table', () => {
  it('returns the closest peers in XOR order and never itself', async () => {
    const [self, ...others] = await peers(60)
    const rt = new RoutingTable({ self: self.bytes, checkLiveness: async () => true })
    for (const p of others) rt.add(p)
    assert.equal(rt.add(self), false)
    const target = toKadId(others[7].bytes)
    const closest = rt.closest(target, 5)
    assert.equal(closest.length, 5)
    assert.ok(closest[0].equals(others[7]))
    const inTable = rt.peers()
    const expected = inTable.sort((x, y) => compareDistance(toKadId(x.bytes), toKadId(y.bytes), target)).slice(0, 5)
    assert.deepEqual(closest.map(String), expected.map(String))
  })

  it('keeps k per bucket; a dead oldest member is replaced by the newest waiting peer', async () => {
    const [self, ...others] = await peers(200)
    const selfKad = toKadId(self.bytes)
    // bucket 0 = peers whose image differs from ours in the first bit: about half of them
    const far = others.filter(p => commonPrefixLength(toKadId(p.bytes), selfKad) === 0)
    assert.ok(far.length > 25)
    const checked: string[] = []
    let alive = true
    const rt = new RoutingTable({ self: self.bytes, kBucketSize: 20, livenessCheckAge: 0, checkLiveness: async (p) => { checked.push(p.toString()); return alive } })
    for (const p of far.slice(0, 20)) assert.equal(rt.add(p), true)
    // full: the newcomer waits and the oldest is checked; it is alive, so it stays
    assert.equal(rt.add(far[20]), false)
    await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual(checked, [far[0].toString()])
    assert.ok(rt.has(far[0]))
    assert.ok(!rt.has(far[20]))
    assert.equal(rt.bucket(0).at(-1)?.peerId.toString(), far[0].toString())
    // now the oldest (far[1]) is dead: it is evicted and the newest replacement takes its seat
    alive = false
    assert.equal(rt.add(far[21]), false)
    await new Promise(resolve => setImmediate(resolve))
    assert.ok(!rt.has(far[1]))
    assert.ok(rt.has(far[21]))
    assert.equal(rt.bucket(0).length, 20)
  })

  it('a flood of newcomers costs one liveness check per bucket at a time', async () => {
    const [self, ...others] = await peers(300)
    const selfKad = toKadId(self.bytes)
    const far = others.filter(p => commonPrefixLength(toKadId(p.bytes), selfKad) === 0)
    let checks = 0
    const rt = new RoutingTable({ self: self.bytes, kBucketSize: 5, livenessCheckAge: 0, checkLiveness: async () => { checks++; return await new Promise(() => {}) } })
    for (const p of far) rt.add(p)
    assert.equal(checks, 1)
    assert.equal(rt.bucket(0).length, 5)
  })

  it('a recently seen oldest member is presumed alive: no check, the newcomer waits', async () => {
    const [self, ...others] = await peers(120)
    const selfKad = toKadId(self.bytes)
    const far = others.filter(p => commonPrefixLength(toKadId(p.bytes), selfKad) === 0)
    let checks = 0
    const rt = new RoutingTable({ self: self.bytes, kBucketSize: 5, livenessCheckAge: 60_000, checkLiveness: async () => { checks++; return true } })
    for (const p of far.slice(0, 5)) rt.add(p)
    assert.equal(rt.add(far[5]), false)
    assert.equal(checks, 0)
    assert.ok(!rt.has(far[5]))
    // once it is removed, the waiting newcomer takes the seat
    rt.remove(far[0])
    assert.ok(rt.has(far[5]))
  })
})
