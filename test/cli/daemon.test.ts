import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCli, runCli } from './run-cli.ts'
import { DaemonClient } from '../../src/daemon/client.ts'
import { parseDaemonFlags, parseGoDuration } from '../../src/cli/daemon-flags.ts'
import { applyConfig } from '../../src/cli/daemon-config.ts'
import { writeFile } from 'node:fs/promises'

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
  // -b is p2pd's boolean "bootstrap" switch; the list is -bootstrapPeers
  const b = parseDaemonFlags(['-b', '-bootstrapPeers', '/ip4/127.0.0.1/tcp/1'])
  assert.equal(b.b, true)
  assert.equal(b.bootstrapPeers, '/ip4/127.0.0.1/tcp/1')
})

test('Go durations as p2pd\'s -connGrace takes them', () => {
  assert.equal(parseGoDuration('120s', 'connGrace'), 120_000)
  assert.equal(parseGoDuration('1m30s', 'connGrace'), 90_000)
  assert.equal(parseGoDuration('1.5h', 'connGrace'), 5_400_000)
  assert.equal(parseGoDuration('250ms', 'connGrace'), 250)
  assert.equal(parseGoDuration('0', 'connGrace'), 0)
  for (const bad of ['120', '', 's', '1x', '1m 30s']) assert.throws(() => parseGoDuration(bad, 'connGrace'), /invalid value/, bad)
})

test('-f JSON config: keys case-insensitive as Go\'s, command-line flags win, bad types are usage errors', () => {
  const flags = parseDaemonFlags(['-connLo=7'])
  const warnings: string[] = []
  applyConfig(flags, {
    ListenAddr: '/ip4/127.0.0.1/tcp/0',
    hostaddresses: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0'],
    AnnounceAddresses: '/ip4/1.2.3.4/tcp/5',
    DHT: { Mode: 'server' },
    ConnectionManager: { Enabled: true, LowWaterMark: 3, HighWaterMark: 9, GracePeriod: 5_000_000_000 },
    PubSub: { Enabled: true, Router: 'floodsub' },
    Security: { Plaintext: false },
    Bogus: 1
  }, w => warnings.push(w))
  assert.equal(flags.listen, '/ip4/127.0.0.1/tcp/0')
  assert.equal(flags.hostAddrs, '/ip4/127.0.0.1/tcp/0,/ip4/127.0.0.1/tcp/0')
  assert.equal(flags.announceAddrs, '/ip4/1.2.3.4/tcp/5')
  assert.equal(flags.dhtServer, true)
  assert.equal(flags.connManager, true)
  assert.equal(flags.connLo, '7', 'the command line wins')
  assert.equal(flags.connHi, '9')
  assert.equal(parseGoDuration(flags.connGrace, 'connGrace'), 5000, 'Go nanoseconds')
  assert.equal(flags.pubsubRouter, 'floodsub')
  assert.equal(flags.plaintext, false)
  assert.deepEqual(warnings, ['config: unknown key Bogus (ignored)'])
  assert.throws(() => applyConfig(parseDaemonFlags([]), { Quiet: 'yes' }, () => {}), /Quiet must be true or false/)
  assert.throws(() => applyConfig(parseDaemonFlags([]), { DHT: { Mode: 'turbo' } }, () => {}), /unknown DHT mode/)
  assert.throws(() => applyConfig(parseDaemonFlags([]), [], () => {}), /must be a JSON object/)
})

// a loopback port nobody listens on: the bootstrap dial fails without leaving the machine
const BOOTSTRAP = '/ip4/127.0.0.1/tcp/9/p2p/12D3KooWRH6mmne8GbhQ82BMzxN32XP1tArUwGuqcxksaVMj6Twm'

test('ts-libp2p daemon -f: the config file sets the control address, announce addresses and bootstrap line; missing features are named on stderr, wired ones are not', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'daemon-config-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const config = join(dir, 'p2pd.json')
  const sock = join(dir, 'c.sock')
  await writeFile(config, JSON.stringify({ ListenAddr: `/unix${sock}`, HostAddresses: ['/ip4/127.0.0.1/tcp/0'], AnnounceAddresses: ['/ip4/1.2.3.4/tcp/5', '/ip4/1.2.3.4/tcp/6'], MetricsAddress: '127.0.0.1:0' }))
  const d = startCli(['daemon', '-f', config, '-dataDir', join(dir, 'data'), '-natPortMap', '-relay=false', '-b', `-bootstrapPeers=${BOOTSTRAP}`])
  t.after(() => { d.child.kill('SIGKILL') })
  assert.equal(await d.nextLine('stdout'), `Control socket: /unix${sock}`, 'p2pd\'s form of a unix address')
  assert.match(await d.nextLine('stdout'), /^Peer ID: /)
  assert.equal(await d.nextLine('stdout'), 'Peer Addrs:')
  assert.equal(await d.nextLine('stdout'), '/ip4/1.2.3.4/tcp/5', 'announce addresses replace the bound ones, as p2pd')
  assert.equal(await d.nextLine('stdout'), '/ip4/1.2.3.4/tcp/6')
  assert.equal(await d.nextLine('stdout'), 'Bootstrap peers:')
  assert.equal(await d.nextLine('stdout'), BOOTSTRAP)
  assert.match(await d.nextLine('stderr', l => l.includes('-metricsAddr')), /metrics are not available yet/)
  assert.ok(!d.stderrText().includes('-relay'), '-relay=false needs no note')
  assert.ok(!d.stderrText().includes('-natPortMap'), '-natPortMap is wired (daemon-services.test.ts), so no note')
  assert.equal(await d.stop('SIGTERM'), 0)
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
  const client = new DaemonClient(controlLine.slice('Control socket: '.length))
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
