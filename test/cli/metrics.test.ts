/**
 * `ts-libp2p start --metrics HOST:PORT` as a process: the start line names the endpoint, which
 * serves the node's exposition, and a peer's connection shows up in it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startCli } from './run-cli.ts'

test('start --metrics 127.0.0.1:0 serves the exposition, which counts an inbound connection', async (ctx) => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-metrics-cli-'))
  ctx.after(() => { rmSync(dir, { recursive: true, force: true }) })
  const node = startCli(['start', '--offline', '--no-nat-traversal', '--listen', '/ip4/127.0.0.1/tcp/0', '--metrics', '127.0.0.1:0', '--data-dir', dir])
  ctx.after(async () => { await node.stop() })
  const line = JSON.parse(await node.nextLine('stdout', l => l.startsWith('{'), 60_000)) as { peerId: string, addrs: string[], metrics: string }
  assert.match(line.metrics, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
  assert.match(await (await fetch(line.metrics)).text(), /# TYPE libp2p_connections gauge/)

  const ping = await runCli(['ping', `${line.addrs[0]}/p2p/${line.peerId}`.replace(/\/p2p\/[^/]+\/p2p\//, '/p2p/'), '--count', '1'], { timeoutMs: 60_000 })
  assert.equal(ping.code, 0, ping.stderr)
  const text = await (await fetch(line.metrics)).text()
  assert.match(text, /libp2p_connections_opened_total\{transport="tcp",direction="inbound"\} 1\n/)
  assert.equal(await node.stop(), 0)
})

test('--metrics needs HOST:PORT', async () => {
  const result = await runCli(['start', '--offline', '--metrics', '9464'])
  assert.equal(result.code, 2)
  assert.match(result.stderr, /--metrics needs HOST:PORT/)
})

test('start --dashboard 127.0.0.1:0 serves the page; a non-loopback --dashboard needs a token', async (ctx) => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-dashboard-cli-'))
  ctx.after(() => { rmSync(dir, { recursive: true, force: true }) })
  const refused = await runCli(['start', '--offline', '--dashboard', '0.0.0.0:0', '--data-dir', dir])
  assert.equal(refused.code, 2)
  assert.match(refused.stderr, /needs --dashboard-token/)

  const node = startCli(['start', '--offline', '--no-nat-traversal', '--listen', '/ip4/127.0.0.1/tcp/0', '--dashboard', '127.0.0.1:0', '--data-dir', dir])
  ctx.after(async () => { await node.stop() })
  const line = JSON.parse(await node.nextLine('stdout', l => l.startsWith('{'), 60_000)) as { peerId: string, dashboard: string }
  assert.match(line.dashboard, /^http:\/\/127\.0\.0\.1:\d+\/$/)
  const page = await fetch(line.dashboard)
  assert.equal(page.status, 200)
  assert.match(await page.text(), /<canvas id="bandwidth"/)
  assert.equal(await node.stop(), 0)
})
