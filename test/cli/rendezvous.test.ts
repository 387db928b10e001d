/**
 * `ts-libp2p start --rendezvous-server` and `--rendezvous MA --namespace NS`: three real CLI
 * processes on loopback; one registers, the other discovers it through the point and connects.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startCli, type RunningCli } from './run-cli.ts'

const running: RunningCli[] = []
const dirs: string[] = []
after(async () => {
  await Promise.all(running.map(async n => await n.stop()))
  await Promise.all(dirs.map(async d => { await rm(d, { recursive: true, force: true }) }))
})

async function start (args: string[]): Promise<{ node: RunningCli, peerId: string, addrs: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'tsrv-'))
  dirs.push(dir)
  const node = startCli(['start', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dir, '--no-nat-traversal', '--events', ...args])
  running.push(node)
  const line = await node.nextLine('stdout', l => l.startsWith('{"peerId"'))
  return { node, ...JSON.parse(line) }
}

test('a node registers at a rendezvous point, another discovers it there and connects', async () => {
  const point = await start(['--rendezvous-server'])
  const a = await start(['--rendezvous', point.addrs[0], '--namespace', 'chat'])
  const registered = JSON.parse(await a.node.nextLine('stdout', l => l.includes('"event":"rendezvous:register"')))
  assert.equal(registered.ns, 'chat')
  assert.equal(registered.ttl, 7200)
  const b = await start(['--rendezvous', point.addrs[0], '--namespace', 'chat'])
  const found = JSON.parse(await b.node.nextLine('stdout', l => l.includes('"event":"peer:discovery"') && l.includes(a.peerId)))
  assert.deepEqual(found.multiaddrs, [a.addrs[0].replace(`/p2p/${a.peerId}`, '')])
  // below --min-connections (8 with rendezvous on) the discovered peer is dialed
  await b.node.nextLine('stdout', l => l.includes('"event":"peer:connect"') && l.includes(a.peerId))
  // a discovers b the same way (its next discover, within 10 s)
  await a.node.nextLine('stdout', l => l.includes('"event":"peer:discovery"') && l.includes(b.peerId), 20_000)
})

test('--namespace without --rendezvous is a usage error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsrv-'))
  dirs.push(dir)
  const result = await runCli(['start', '--data-dir', dir, '--namespace', 'x'])
  assert.equal(result.code, 2)
  assert.match(result.stderr, /--namespace needs --rendezvous/)
})
