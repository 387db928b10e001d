/**
 * The live dashboard in real Chromium: the page loads and shows the node's peer id, lists a
 * peer within 2 s of it connecting and removes it when it leaves, and draws the bandwidth chart
 * while a transfer runs (a screenshot goes to the test output). A bind beyond loopback needs a
 * token, and requests without it are refused.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { serveDashboard, DashboardTokenRequiredError } from '../../src/metrics/dashboard/server.node.ts'
import type { DashboardServer } from '../../src/metrics/dashboard/server.node.ts'
import { makeNode, nextEvent, stopAll } from '../node/helpers.ts'
import type { TestNode } from '../node/helpers.ts'
import { chromiumSkip } from '../support/browser/availability.ts'
import { launchChromium } from '../support/browser/chromium.ts'
import type { RunningChromium } from '../support/browser/chromium.ts'

describe('the live dashboard in Chromium', { skip: chromiumSkip(), timeout: 120_000 }, () => {
  let node: TestNode
  let dashboard: DashboardServer
  let chromium: RunningChromium
  let page: Page

  before(async () => {
    node = await makeNode({ metrics: true })
    dashboard = await serveDashboard(node, { intervalMs: 250 })
    chromium = await launchChromium()
    page = await (await chromium.browser.newContext()).newPage()
  })

  after(async () => {
    await chromium?.close()
    await dashboard?.close()
    await stopAll()
  })

  it('shows the peer id, lists a peer within 2 s of connecting and drops it when it leaves', async () => {
    await page.goto(dashboard.url)
    await page.waitForFunction((id: string) => document.getElementById('peer-id')?.textContent === id, node.peerId.toString(), { timeout: 10_000 })
    const peer = await makeNode()
    const opened = nextEvent(node, 'connection:open')
    const connection = await peer.dial(node.getMultiaddrs()[0])
    await opened
    const row = `#connections tbody tr[data-key="${peer.peerId.toString()}"]`
    await page.waitForSelector(row, { timeout: 2000 })
    assert.match(await page.textContent(row) ?? '', /tcp\/noise\/yamux\/1\.0\.0inbound/)

    // a transfer: the chart draws a non-zero rate for /echo/1.0.0 (identify's bytes do not count)
    const stream = await connection.newStream('/echo/1.0.0')
    const reading = (async () => { for await (const chunk of stream) void chunk })()
    const chunk = new Uint8Array(64 * 1024)
    // send until the page has drawn a non-zero rate (or its wait fails, which fails the test)
    let settled = false
    const watching = page.waitForFunction(() => (JSON.parse(document.getElementById('bandwidth')?.dataset.drawn ?? '[]') as string[]).includes('/echo/1.0.0'), undefined, { timeout: 15_000 })
      .finally(() => { settled = true })
    while (!settled) {
      if (!stream.send(chunk)) await stream.drain()
      await new Promise(resolve => setImmediate(resolve))
    }
    await watching
    await stream.closeWrite()
    await reading
    assert.match(await page.textContent(row) ?? '', /\/echo\/1\.0\.0/)
    const shot = join(mkdtempSync(join(tmpdir(), 'ts-libp2p-dashboard-')), 'dashboard.png')
    await page.screenshot({ path: shot, fullPage: true })
    process.stdout.write(`# dashboard screenshot: ${shot}\n`)
    assert.match(await page.textContent('#legend') ?? '', /\/echo\/1\.0\.0/)
    await stream.closeWrite()
    await reading

    const closed = nextEvent(node, 'connection:close')
    await connection.close()
    await closed
    await page.waitForSelector(row, { state: 'detached', timeout: 2000 })
  })
})

describe('the dashboard beyond loopback', () => {
  it('refuses to bind a non-loopback address without a token', async () => {
    const node = await makeNode()
    try {
      await assert.rejects(serveDashboard(node, { host: '0.0.0.0' }), (err: Error) => err instanceof DashboardTokenRequiredError && (err as DashboardTokenRequiredError).code === 'ERR_DASHBOARD_TOKEN_REQUIRED')
    } finally {
      await stopAll()
    }
  })

  it('with a token, refuses the page and its API to requests without it', async () => {
    const node = await makeNode({ metrics: true })
    // bound to every interface, but only ever asked over loopback: nothing leaves the machine
    const dashboard = await serveDashboard(node, { host: '0.0.0.0', token: 'secret-token' })
    try {
      const base = `http://127.0.0.1:${dashboard.port}`
      assert.equal((await fetch(`${base}/`)).status, 401)
      assert.equal((await fetch(`${base}/events`)).status, 401)
      assert.equal((await fetch(`${base}/?token=wrong`)).status, 401)
      const ok = await fetch(`${base}/?token=secret-token`)
      assert.equal(ok.status, 200)
      assert.match(await ok.text(), /<canvas id="bandwidth"/)
      assert.equal((await fetch(`${base}/`, { headers: { authorization: 'Bearer secret-token' } })).status, 200)
    } finally {
      await dashboard.close()
      await stopAll()
    }
  })
})
