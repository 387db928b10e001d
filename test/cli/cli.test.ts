import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startCli } from './run-cli.ts'

const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

async function tempDir (t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ts-libp2p-cli-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

function assertOneErrorLine (stderr: string, includes: string): void {
  const lines = stderr.split('\n').filter(l => l.length > 0)
  assert.equal(lines.length, 1, `stderr: ${stderr}`)
  assert.match(lines[0], /^ts-libp2p: /)
  assert.ok(lines[0].includes(includes), lines[0])
}

interface StartLine { peerId: string, addrs: string[] }

function loopbackAddr (line: StartLine): string {
  const addr = line.addrs.find(a => a.startsWith('/ip4/127.0.0.1/tcp/'))
  assert.ok(addr !== undefined, `no loopback address in ${JSON.stringify(line)}`)
  return addr
}

test('--version prints the package version; --help and every command --help exit 0', async () => {
  const v = await runCli(['--version'])
  assert.equal(v.code, 0)
  assert.equal(v.stdout, `${pkg.version}\n`)
  const h = await runCli(['--help'])
  assert.equal(h.code, 0)
  for (const command of ['start', 'id', 'peers', 'ping', 'identify']) {
    assert.ok(h.stdout.includes(`  ${command} `), `top-level help lists ${command}`)
    const r = await runCli([command, '--help'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, new RegExp(`^Usage: ts-libp2p ${command}`))
    assert.equal(r.stderr, '')
  }
})

test('usage errors: one stderr line and exit code 2', async () => {
  const cases: Array<[string[], string]> = [
    [[], 'missing command'],
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['id', '--bogus'], '--bogus'],
    [['ping', '/ip4/not-an-address/tcp/1'], "invalid multiaddr '/ip4/not-an-address/tcp/1'"],
    [['ping', 'garbage'], "invalid multiaddr 'garbage'"],
    [['ping'], 'exactly one multiaddr'],
    [['ping', '/ip4/127.0.0.1/tcp/1', '--count', 'zero'], '--count'],
    [['identify', '/dns4'], 'invalid multiaddr'],
    [['start', '--listen', '/ip4/1.2.3/tcp/1'], 'invalid listen address'],
    [['start', '--public-cidr', '11.0.0.0/33'], '--public-cidr: not a CIDR range: 11.0.0.0/33']
  ]
  for (const [args, message] of cases) {
    const r = await runCli(args)
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.equal(r.stdout, '')
    assertOneErrorLine(r.stderr, message)
  }
})

test('id creates an identity once and prints the same peer id on every run', async (t) => {
  const dir = await tempDir(t)
  const first = await runCli(['id', '--data-dir', dir])
  assert.equal(first.code, 0, first.stderr)
  assert.match(first.stdout, /^12D3KooW[1-9A-HJ-NP-Za-km-z]+\n$/)
  const second = await runCli(['id', '--data-dir', dir])
  assert.equal(second.stdout, first.stdout)
  const other = await runCli(['id', '--data-dir', join(dir, 'other')])
  assert.notEqual(other.stdout, first.stdout)
  // the default data dir is ./.data relative to the working directory
  const cwdRun = await runCli(['id'], { cwd: dir })
  const again = await runCli(['id', '--data-dir', join(dir, '.data')])
  assert.equal(cwdRun.stdout, again.stdout)
})

test('a corrupt identity file is a one-line error, not a new identity', async (t) => {
  const dir = await tempDir(t)
  const { writeFile } = await import('node:fs/promises')
  await writeFile(join(dir, 'identity.key'), Uint8Array.of(1, 2, 3))
  const r = await runCli(['id', '--data-dir', dir])
  assert.equal(r.code, 1)
  assertOneErrorLine(r.stderr, 'identity.key')
})

test('start prints one JSON line; ping and identify work against it; SIGTERM exits 0', async (t) => {
  const dir = await tempDir(t)
  const node = startCli(['start', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dir])
  t.after(async () => { await node.stop('SIGKILL') })
  const line = JSON.parse(await node.nextLine('stdout')) as StartLine
  assert.match(line.peerId, /^12D3KooW/)
  assert.ok(line.addrs.length > 0)
  for (const a of line.addrs) assert.ok(a.endsWith(`/p2p/${line.peerId}`), a)
  const addr = loopbackAddr(line)
  assert.equal((await runCli(['id', '--data-dir', dir])).stdout, `${line.peerId}\n`)

  const ping = await runCli(['ping', addr, '--count', '3', '--interval', '0'])
  assert.equal(ping.code, 0, ping.stderr)
  const pings = ping.stdout.trim().split('\n').map(l => JSON.parse(l) as { seq: number, rttMs: number, addr: string })
  assert.deepEqual(pings.map(p => p.seq), [1, 2, 3])
  for (const p of pings) assert.ok(typeof p.rttMs === 'number' && p.rttMs >= 0 && p.rttMs < 5000)
  // the remote address of the connection each ping used
  for (const p of pings) assert.ok(addr.startsWith(p.addr), `${p.addr} is not ${addr}`)

  const id = await runCli(['identify', addr])
  assert.equal(id.code, 0, id.stderr)
  const info = JSON.parse(id.stdout) as { peerId: string, protocols: string[], listenAddrs: string[], observedAddr: string, agentVersion: string, protocolVersion: string }
  assert.equal(info.peerId, line.peerId)
  assert.ok(info.protocols.includes('/ipfs/id/1.0.0'))
  assert.ok(info.protocols.includes('/ipfs/ping/1.0.0'))
  assert.ok(!info.protocols.includes('/echo/1.0.0'), 'echo is off by default')
  assert.ok(info.listenAddrs.some(a => addr.startsWith(a)), JSON.stringify(info.listenAddrs))
  assert.match(info.observedAddr, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
  assert.match(info.agentVersion, /ts-libp2p/)
  assert.equal(info.protocolVersion, 'ipfs/0.1.0')

  assert.equal(await node.stop('SIGTERM'), 0)
  assert.equal(node.stderrText(), '')
})

test('SIGINT also stops the node cleanly', async (t) => {
  const dir = await tempDir(t)
  const node = startCli(['start', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dir, '--echo'])
  t.after(async () => { await node.stop('SIGKILL') })
  const line = JSON.parse(await node.nextLine('stdout')) as StartLine
  const id = await runCli(['identify', loopbackAddr(line)])
  assert.ok((JSON.parse(id.stdout) as { protocols: string[] }).protocols.includes('/echo/1.0.0'))
  assert.equal(await node.stop('SIGINT'), 0)
})

test('ping of an unreachable or wrong peer fails with one stderr line', async (t) => {
  const dir = await tempDir(t)
  const node = startCli(['start', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dir])
  t.after(async () => { await node.stop('SIGKILL') })
  const line = JSON.parse(await node.nextLine('stdout')) as StartLine
  const port = /tcp\/(\d+)/.exec(loopbackAddr(line))![1]
  await node.stop('SIGTERM')
  // nobody listens there any more
  const r = await runCli(['ping', `/ip4/127.0.0.1/tcp/${port}/p2p/${line.peerId}`, '--timeout', '5000'])
  assert.equal(r.code, 1)
  assert.equal(r.stdout, '')
  assertOneErrorLine(r.stderr, '')
})

test('a restarted node keeps its peer id and remembers a peer it learned', async (t) => {
  const dirA = await tempDir(t)
  const dirB = await tempDir(t)
  const env = { DEBUG: 'ts-libp2p:identify' }
  const a = startCli(['start', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dirA], { env })
  t.after(async () => { await a.stop('SIGKILL') })
  const lineA = JSON.parse(await a.nextLine('stdout')) as StartLine
  const b = startCli(['start', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dirB, '--bootstrap', loopbackAddr(lineA)])
  t.after(async () => { await b.stop('SIGKILL') })
  const lineB = JSON.parse(await b.nextLine('stdout')) as StartLine
  // A logs once it has identified B (and stored what it learned)
  await a.nextLine('stderr', l => l.includes(`identified ${lineB.peerId}`))
  assert.equal(await a.stop('SIGTERM'), 0)
  assert.equal(await b.stop('SIGTERM'), 0)

  const again = startCli(['start', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dirA])
  t.after(async () => { await again.stop('SIGKILL') })
  const lineA2 = JSON.parse(await again.nextLine('stdout')) as StartLine
  assert.equal(lineA2.peerId, lineA.peerId)
  assert.equal(await again.stop('SIGTERM'), 0)

  const peers = await runCli(['peers', '--data-dir', dirA])
  assert.equal(peers.code, 0, peers.stderr)
  const known = peers.stdout.trim().split('\n').map(l => JSON.parse(l) as { peerId: string, addrs: string[], protocols: string[] })
  const learned = known.find(p => p.peerId === lineB.peerId)
  assert.ok(learned !== undefined, peers.stdout)
  assert.ok(learned.addrs.some(x => loopbackAddr(lineB).startsWith(x)), JSON.stringify(learned))
  assert.ok(learned.protocols.includes('/ipfs/ping/1.0.0'))
})

test('start --events prints peer:connect and peer:disconnect lines after the start line', async (t) => {
  const dir = await tempDir(t)
  const node = startCli(['start', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dir, '--events'])
  t.after(async () => { await node.stop('SIGKILL') })
  const line = JSON.parse(await node.nextLine('stdout')) as StartLine
  const ping = await runCli(['ping', loopbackAddr(line), '--count', '1'])
  assert.equal(ping.code, 0, ping.stderr)
  const connect = JSON.parse(await node.nextLine('stdout', l => l.includes('"peer:connect"'))) as { peer: string, addr: string, limited: boolean }
  assert.match(connect.peer, /^12D3KooW/)
  assert.match(connect.addr, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+/)
  assert.equal(connect.limited, false)
  const disconnect = JSON.parse(await node.nextLine('stdout', l => l.includes('"peer:disconnect"'))) as { peer: string }
  assert.equal(disconnect.peer, connect.peer)
})
