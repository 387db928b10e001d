/**
 * The CLI over WebTransport: `start --listen .../quic-v1/webtransport` reports an address with
 * two certhashes, `ping` and `identify` dial it from Node, and a restart with the same data
 * directory listens with the same certhashes (the certificates are kept there).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startCli } from './run-cli.ts'

interface StartLine { peerId: string, addrs: string[] }

const LISTEN = '/ip4/127.0.0.1/udp/0/quic-v1/webtransport'
const ADDR = /^\/ip4\/127\.0\.0\.1\/udp\/\d+\/quic-v1\/webtransport\/certhash\/u[\w-]+\/certhash\/u[\w-]+\/p2p\//

test('start --listen a WebTransport address; ping and identify dial it; a restart keeps the certhashes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ts-libp2p-wt-cli-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const node = startCli(['start', '--listen', LISTEN, '--data-dir', dir])
  t.after(async () => { await node.stop('SIGKILL') })
  const line = JSON.parse(await node.nextLine('stdout')) as StartLine
  assert.equal(line.addrs.length, 1, JSON.stringify(line.addrs))
  const addr = line.addrs[0]
  assert.match(addr, ADDR)

  const ping = await runCli(['ping', addr, '--count', '2', '--interval', '0'])
  assert.equal(ping.code, 0, ping.stderr)
  const pings = ping.stdout.trim().split('\n').map(l => JSON.parse(l) as { seq: number, rttMs: number })
  assert.deepEqual(pings.map(p => p.seq), [1, 2])

  const id = await runCli(['identify', addr])
  assert.equal(id.code, 0, id.stderr)
  const info = JSON.parse(id.stdout) as { peerId: string, listenAddrs: string[] }
  assert.equal(info.peerId, line.peerId)
  assert.ok(info.listenAddrs.some(a => a.includes('/webtransport/certhash/')), JSON.stringify(info.listenAddrs))
  assert.equal(await node.stop('SIGTERM'), 0)
  assert.equal(node.stderrText(), '')

  const again = startCli(['start', '--listen', LISTEN, '--data-dir', dir])
  t.after(async () => { await again.stop('SIGKILL') })
  const second = JSON.parse(await again.nextLine('stdout')) as StartLine
  const hashes = (a: string): string => a.replace(/^.*?(\/certhash\/.*)\/p2p\/.*$/, '$1')
  assert.equal(hashes(second.addrs[0]), hashes(addr))
  assert.equal(second.peerId, line.peerId)
  assert.equal(await again.stop('SIGTERM'), 0)
})
