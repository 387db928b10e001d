/**
 * The dashboard's inside views in real Chromium: a node with a DHT and a GossipSub topic and
 * one peer; the page shows the connection's RTT (after a ping), the DHT's bucket holding the
 * peer and a lookup just run (type, outcome, peers contacted), the peer's score with its parts,
 * and a log line (a stream handler that fails logs an error, which the tail keeps without DEBUG).
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { serveDashboard } from '../../src/metrics/dashboard/server.node.ts'
import type { DashboardServer } from '../../src/metrics/dashboard/server.node.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import { kadDHT } from '../../src/dht/index.ts'
import type { KadDHT } from '../../src/dht/index.ts'
import { gossipsub } from '../../src/pubsub/gossipsub/index.ts'
import type { GossipSub } from '../../src/pubsub/gossipsub/index.ts'
import type { PingService } from '../../src/protocols/ping/index.ts'
import { utf8Encode } from '../../src/util/bytes.ts'
import { makeNode, stopAll } from '../node/helpers.ts'
import type { TestNode } from '../node/helpers.ts'
import { waitForRoutingTable, type DhtNode } from '../dht/network-helpers.ts'
import { untilSubscribed, type PubSubNode } from '../pubsub/helpers.ts'
import { chromiumSkip } from '../support/browser/availability.ts'
import { launchChromium } from '../support/browser/chromium.ts'
import type { RunningChromium } from '../support/browser/chromium.ts'

const TOPIC = 'dashboard-topic'
const FAILING_PROTOCOL = '/dashboard-test/fails/1.0.0'

function services () {
  return {
    identify: identify(),
    ping: ping(),
    dht: kadDHT({ mode: 'server', initialRefresh: false, refreshInterval: 0 }),
    pubsub: gossipsub({ scoreParams: { topics: {} }, scoreThresholds: {} })
  }
}

describe('the dashboard shows RTT, DHT buckets and queries, GossipSub scores and a log tail', { skip: chromiumSkip(), timeout: 120_000 }, () => {
  let node: TestNode
  let peer: TestNode
  let dashboard: DashboardServer
  let chromium: RunningChromium
  let page: Page

  before(async () => {
    node = await makeNode({ metrics: true, services: services() })
    peer = await makeNode({ services: services() })
    dashboard = await serveDashboard(node, { intervalMs: 250 })
    chromium = await launchChromium()
    page = await (await chromium.browser.newContext()).newPage()
  })

  after(async () => {
    await chromium?.close()
    await dashboard?.close()
    await stopAll()
  })

  it('fills every view from the running node', async () => {
    await page.goto(dashboard.url)
    await page.waitForFunction((id: string) => document.getElementById('peer-id')?.textContent === id, node.peerId.toString(), { timeout: 10_000 })
    const gs = (node as unknown as PubSubNode<GossipSub>).services.pubsub
    gs.subscribe(TOPIC);
    (peer as unknown as PubSubNode<GossipSub>).services.pubsub.subscribe(TOPIC)
    await node.handle(FAILING_PROTOCOL, () => { throw new Error('this handler fails on purpose') })

    const connection = await node.dial(peer.getMultiaddrs()[0])
    await waitForRoutingTable(node as unknown as DhtNode, 1)
    await untilSubscribed(node as unknown as PubSubNode, peer.peerId, TOPIC)
    const rtt = await (node.services.ping as PingService).ping(peer.peerId)
    assert.equal(connection.rtt, rtt)
    for await (const event of (node.services.dht as KadDHT).getClosestPeers(utf8Encode('a key to look up'))) void event
    // on the one connection there is (a second would make a second row for the peer)
    await peer.getConnections(node.peerId)[0].newStream(FAILING_PROTOCOL)

    const peerId = peer.peerId.toString()
    // RTT column (the 8th): the ping's RTT, rounded as the snapshot rounds it
    const rttCell = `#connections tbody tr[data-key="${peerId}"] td:nth-child(8)`
    await page.waitForFunction(([selector, expected]) => document.querySelector(selector)?.textContent === expected, [rttCell, String(Math.round(rtt * 100) / 100)] as const, { timeout: 10_000 })

    // the peer sits in one bucket: one row with 1 peer of k
    const cpl = (node.services.dht as KadDHT).routingBuckets()[0].cpl
    const bucketRow = `#dht-buckets tbody tr[data-key="${cpl}"]`
    await page.waitForSelector(bucketRow, { timeout: 10_000 })
    assert.match(await page.textContent(bucketRow) ?? '', new RegExp(`^${cpl}1 1/200$`))

    // the lookup: find_node, ran its course, one peer contacted, none failed
    await page.waitForFunction(() => document.querySelector('#dht-queries tbody tr') !== null, undefined, { timeout: 10_000 })
    const cells = await page.$$eval('#dht-queries tbody tr:first-child td', tds => tds.map(td => td.textContent))
    assert.equal(cells[1], 'find_node')
    assert.equal(cells[4], 'finished')
    assert.equal(cells[5], '1')
    assert.equal(cells[6], '0')
    assert.ok(Number(cells[3]) >= 0)

    // the peer's GossipSub row: its topic, its score and the score's parts (scoring is on)
    const pubsubRow = `#pubsub-peers tbody tr[data-key="${peerId}"]`
    await page.waitForSelector(pubsubRow, { timeout: 10_000 })
    const pubsubCells = await page.$$eval(`${pubsubRow} td`, tds => tds.map(td => td.textContent))
    assert.equal(pubsubCells[1], TOPIC)
    assert.equal(pubsubCells[3], String(Math.round(gs.getScore(peer.peerId) * 1000) / 1000))
    assert.match(pubsubCells[4] ?? '', /^topics -?[\d.]+, app -?[\d.]+, ipColocation -?[\d.]+, behaviour -?[\d.]+$/)

    // the log tail: the failed handler's error line, though DEBUG is not set
    await page.waitForFunction((protocol: string) => (document.getElementById('log')?.textContent ?? '').includes(`${protocol} handler failed`), FAILING_PROTOCOL, { timeout: 10_000 })
    assert.match(await page.textContent('#log') ?? '', /ts-libp2p:connection:error .*this handler fails on purpose/)
    const shot = join(mkdtempSync(join(tmpdir(), 'ts-libp2p-dashboard-')), 'dashboard-diagnostics.png')
    await page.screenshot({ path: shot, fullPage: true })
    process.stdout.write(`# dashboard screenshot: ${shot}\n`)
  })
})
