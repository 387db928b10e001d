/** The pubsub command line: `start --pubsub --subscribe` prints messages, `pubsub pub` publishes. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startCli } from '../cli/run-cli.ts'

async function tempDir (t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ts-libp2p-pubsub-cli-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

for (const router of ['gossipsub', 'floodsub']) {
  test(`cli: start --pubsub ${router} --subscribe prints each message; pubsub pub delivers and exits 0`, async (t) => {
    const dir = await tempDir(t)
    const node = startCli(['start', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dir, '--pubsub', router, '--subscribe', 'news', '--subscribe', 'other'])
    t.after(async () => { await node.stop('SIGKILL') })
    const start = JSON.parse(await node.nextLine('stdout')) as { peerId: string, addrs: string[] }
    const addr = start.addrs.find(a => a.startsWith('/ip4/127.0.0.1/'))
    assert.ok(addr !== undefined)
    const pub = await runCli(['pubsub', 'pub', 'news', 'héllo', '--bootstrap', addr, '--pubsub', router])
    assert.equal(pub.code, 0, pub.stderr)
    assert.equal(pub.stdout, '')
    const line = JSON.parse(await node.nextLine('stdout')) as Record<string, string>
    assert.deepEqual(Object.keys(line).sort(), ['data', 'from', 'seqno', 'topic'])
    assert.equal(line.topic, 'news')
    assert.equal(Buffer.from(line.data, 'base64').toString('utf8'), 'héllo')
    assert.match(line.seqno, /^[0-9a-f]{16}$/)
    assert.match(line.from, /^12D3KooW/)
    assert.notEqual(line.from, start.peerId)
    assert.equal(await node.stop('SIGTERM'), 0)
  })
}

test('cli: pubsub pub fails with one line when nobody subscribes, and on bad usage', async (t) => {
  const dir = await tempDir(t)
  const node = startCli(['start', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dir, '--pubsub', 'gossipsub'])
  t.after(async () => { await node.stop('SIGKILL') })
  const start = JSON.parse(await node.nextLine('stdout')) as { addrs: string[] }
  const addr = start.addrs.find(a => a.startsWith('/ip4/127.0.0.1/')) ?? ''
  const lonely = await runCli(['pubsub', 'pub', 'news', 'x', '--bootstrap', addr, '--timeout', '500'])
  assert.equal(lonely.code, 1)
  assert.match(lonely.stderr, /no connected peer subscribed to 'news'/)
  assert.equal(lonely.stderr.trim().split('\n').length, 1)
  const usage = await runCli(['pubsub', 'pub', 'news'])
  assert.equal(usage.code, 2)
  const noPeers = await runCli(['pubsub', 'pub', 'news', 'x'])
  assert.equal(noPeers.code, 2)
  assert.match(noPeers.stderr, /--bootstrap/)
  const badRouter = await runCli(['start', '--pubsub', 'carrier-pigeon', '--data-dir', dir])
  assert.equal(badRouter.code, 2)
})
