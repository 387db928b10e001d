/**
 * The CLI over QUIC: `start` listens on TCP and QUIC by default, `--listen` takes quic-v1
 * addresses, and `ping` / `identify` dial them.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startCli } from './run-cli.ts'

interface StartLine { peerId: string, addrs: string[] }

test('start listens on TCP and QUIC by default; ping and identify dial the QUIC address', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ts-libp2p-quic-cli-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const node = startCli(['start', '--data-dir', dir])
  t.after(async () => { await node.stop('SIGKILL') })
  const line = JSON.parse(await node.nextLine('stdout')) as StartLine
  assert.ok(line.addrs.some(a => /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//.test(a)), JSON.stringify(line.addrs))
  const addr = line.addrs.find(a => /^\/ip4\/127\.0\.0\.1\/udp\/\d+\/quic-v1\/p2p\//.test(a))
  assert.ok(addr !== undefined, JSON.stringify(line.addrs))

  const ping = await runCli(['ping', addr, '--count', '2', '--interval', '0'])
  assert.equal(ping.code, 0, ping.stderr)
  const pings = ping.stdout.trim().split('\n').map(l => JSON.parse(l) as { seq: number, rttMs: number, addr: string })
  assert.deepEqual(pings.map(p => p.seq), [1, 2])
  for (const p of pings) assert.ok(addr.startsWith(p.addr), `${p.addr} is not ${addr}`)

  const id = await runCli(['identify', addr])
  assert.equal(id.code, 0, id.stderr)
  const info = JSON.parse(id.stdout) as { peerId: string, listenAddrs: string[], observedAddr: string }
  assert.equal(info.peerId, line.peerId)
  assert.ok(info.listenAddrs.some(a => a.includes('/quic-v1')), JSON.stringify(info.listenAddrs))
  assert.match(info.observedAddr, /^\/ip4\/127\.0\.0\.1\/udp\/\d+\/quic-v1$/)
  assert.equal(await node.stop('SIGTERM'), 0)
  assert.equal(node.stderrText(), '')
})

test('--listen takes a QUIC address on ::1', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ts-libp2p-quic-cli-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const node = startCli(['start', '--listen', '/ip6/::1/udp/0/quic-v1', '--data-dir', dir])
  t.after(async () => { await node.stop('SIGKILL') })
  const line = JSON.parse(await node.nextLine('stdout')) as StartLine
  assert.equal(line.addrs.length, 1)
  assert.match(line.addrs[0], /^\/ip6\/::1\/udp\/\d+\/quic-v1\/p2p\//)
  const ping = await runCli(['ping', line.addrs[0], '--count', '1'])
  assert.equal(ping.code, 0, ping.stderr)
  assert.equal(await node.stop('SIGTERM'), 0)
})
