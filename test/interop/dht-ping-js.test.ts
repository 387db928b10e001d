/**
 * A ts node configured with kadDHT() and no ping service enters a real js-libp2p peer's routing
 * table. js-libp2p's kad-dht pings a new contact on /ipfs/ping/1.0.0 before it admits it; a
 * node that cannot answer stayed out of every js peer's table. The node adds ping itself when a
 * DHT runs without one (src/node/implied-services.ts). Both directions: we dial js, js dials us.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnPeer, stopAll, type PeerProcess } from './harness.ts'
import { createLibp2p, multiaddr } from '../../src/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { kadDHT } from '../../src/dht/index.ts'
import type { Libp2p } from '../../src/interface/libp2p.ts'

/** How long js may take to identify us, ping us and add us (it does so in the background). */
const ADMISSION_TIMEOUT_MS = 20_000
const POLL_INTERVAL_MS = 100

async function jsRoutingTable (js: PeerProcess): Promise<string[]> {
  return (await js.commandOk({ cmd: 'dht.routingTable' })).peers as string[]
}

/** Polls the js peer's routing table until it holds `peerId` or the time is up; returns the last table seen. */
async function waitForAdmission (js: PeerProcess, peerId: string): Promise<string[]> {
  const deadline = Date.now() + ADMISSION_TIMEOUT_MS
  let table = await jsRoutingTable(js)
  while (!table.includes(peerId) && Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, POLL_INTERVAL_MS))
    table = await jsRoutingTable(js)
  }
  return table
}

describe('interop: a ts node with kadDHT but no ping service is admitted to js-libp2p routing tables', { timeout: 120_000 }, () => {
  let ours: Libp2p<Record<string, unknown>>

  before(async () => {
    ours = await createLibp2p({
      transports: [tcp()],
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      services: { identify: identify(), dht: kadDHT({ mode: 'server', initialRefresh: false, refreshInterval: 0 }) }
    })
  })

  after(async () => {
    await stopAll()
    await ours?.stop()
  })

  it('runs a ping service although none was configured', () => {
    assert.ok(ours.getProtocols().includes('/ipfs/ping/1.0.0'))
  })

  it('we dial a js DHT server: js pings us and adds us to its routing table', async () => {
    const js = await spawnPeer('js', ['--dht', 'server'])
    await ours.dial(multiaddr(js.addrs[0]))
    const table = await waitForAdmission(js, ours.peerId.toString())
    assert.ok(table.includes(ours.peerId.toString()), `js's routing table lacks us: ${JSON.stringify(table)}`)
  })

  it('a js DHT server dials us: js pings us and adds us to its routing table', async () => {
    const js = await spawnPeer('js', ['--dht', 'server'])
    await js.commandOk({ cmd: 'dial', addr: ours.getMultiaddrs()[0].toString() })
    const table = await waitForAdmission(js, ours.peerId.toString())
    assert.ok(table.includes(ours.peerId.toString()), `js's routing table lacks us: ${JSON.stringify(table)}`)
  })
})
