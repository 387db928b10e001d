import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { startCli, runCli } from './run-cli.ts'
import { DaemonClient } from '../../src/daemon/client.ts'
import { parseDaemonFlags } from '../../src/cli/daemon-flags.ts'

test('daemon flags: Go forms, p2pd defaults, unknown flags refused', () => {
  const f = parseDaemonFlags(['-listen', '/ip4/127.0.0.1/tcp/0', '-noise=true', '-tls=false', '-dhtServer', '--muxer=mplex', '-q'])
  assert.equal(f.listen, '/ip4/127.0.0.1/tcp/0')
  assert.equal(f.noise, true)
  assert.equal(f.tls, false)
  assert.equal(f.plaintext, true, 'p2pd default')
  assert.equal(f.echo, true, 'p2pd default')
  assert.equal(f.dhtServer, true)
  assert.equal(f.muxer, 'mplex')
  assert.equal(f.q, true)
  assert.throws(() => parseDaemonFlags(['-bogus']), /not defined: -bogus/)
  assert.throws(() => parseDaemonFlags(['-noise=maybe']), /invalid boolean/)
  assert.throws(() => parseDaemonFlags(['-listen']), /needs an argument/)
})

test('ts-libp2p daemon: p2pd start-up lines, a persisted identity, restart after SIGKILL on the same unix socket, clean SIGTERM exit', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'daemon-cli-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const sock = join(dir, 'p2pd.sock')
  const args = ['daemon', `-listen=/unix/${encodeURIComponent(sock)}`, '-hostAddrs=/ip4/127.0.0.1/tcp/0', '-dataDir', join(dir, 'data')]

  const first = startCli(args)
  t.after(() => { first.child.kill('SIGKILL') })
  const controlLine = await first.nextLine('stdout')
  assert.match(controlLine, /^Control socket: \/unix\//)
  const peerLine = await first.nextLine('stdout')
  assert.match(peerLine, /^Peer ID: 12D3KooW/)
  assert.equal(await first.nextLine('stdout'), 'Peer Addrs:')
  const addrLine = await first.nextLine('stdout')
  assert.match(addrLine, /^\/ip4\/127\.0\.0\.1\/tcp\/[1-9]\d*$/, 'the real port, no /p2p')
  const client = new DaemonClient(multiaddr(controlLine.slice('Control socket: '.length)))
  const id = await client.identify()
  assert.equal(`Peer ID: ${id.id.toString()}`, peerLine)

  first.child.kill('SIGKILL')
  await new Promise(resolve => first.child.once('exit', resolve))
  assert.ok((await stat(sock)).isSocket(), 'the crash left the socket file behind')

  const second = startCli(args)
  t.after(() => { second.child.kill('SIGKILL') })
  await second.nextLine('stdout', l => l.startsWith('Control socket:'))
  assert.equal(await second.nextLine('stdout', l => l.startsWith('Peer ID:')), peerLine, 'the identity persisted')
  assert.ok((await client.identify()).id.equals(id.id))
  assert.equal(await second.stop('SIGTERM'), 0)
})

test('ts-libp2p daemon: bad flags are usage errors', async () => {
  const r = await runCli(['daemon', '-muxer=quic', '-listen=/ip4/127.0.0.1/tcp/0', '-noListenAddrs', '-dataDir', join(tmpdir(), `d-${process.pid}`)])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /-muxer must be yamux or mplex/)
})
