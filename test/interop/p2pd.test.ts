/**
 * The real go-libp2p-daemon (p2pd v0.9.2, built from the Go module proxy by
 * interop/p2pd/build.ts) beside ours: the start-up output byte for byte, and go-libp2p-daemon's
 * own Go client library (p2pclient, interop/p2pd/go-client) driving two of our daemons.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair, privateKeyToProtobuf } from '../../src/index.ts'
import { buildP2pd } from '../../interop/p2pd/build.ts'
import { startCli, type RunningCli } from '../cli/run-cli.ts'

/** Runs `command` until its stdout has `lines` lines, then stops it with SIGTERM; the exact bytes. */
async function startupOutput (command: string, args: string[], lines: number): Promise<string> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBUG: '' } })
  let out = ''
  let err = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d })
  const exited = new Promise<number | null>(resolve => child.once('exit', resolve))
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
      if (out.split('\n').length > lines) resolve()
    })
    exited.then(code => { reject(new Error(`${command} exited (${code}) after ${JSON.stringify(out)}: ${err}`)) }, reject)
  })
  child.kill('SIGTERM')
  await exited
  return out
}

test('start-up output: ours is byte for byte p2pd\'s (same key, same unix path, announce addresses)', { timeout: 900_000 }, async (t) => {
  const { p2pd } = await buildP2pd()
  const dir = await mkdtemp(join(tmpdir(), 'p2pd-compare-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const key = join(dir, 'key')
  await writeFile(key, privateKeyToProtobuf(await generateKeyPair('Ed25519')))
  const args = ['-listen', `/unix${join(dir, 'p2pd.sock')}`, '-id', key, '-hostAddrs', '/ip4/127.0.0.1/tcp/0',
    '-announceAddrs', '/ip4/192.0.2.1/tcp/4001,/ip6/2001:db8::1/tcp/4001']
  const theirs = await startupOutput(p2pd, args, 5)
  const ours = await startupOutput(process.execPath, [join(import.meta.dirname, '../../bin/ts-libp2p.js'), 'daemon', '-dataDir', join(dir, 'data'), ...args], 5)
  assert.match(theirs, /^Control socket: \/unix\/.+\nPeer ID: 12D3KooW\w+\nPeer Addrs:\n\/ip4\/192\.0\.2\.1\/tcp\/4001\n\/ip6\/2001:db8::1\/tcp\/4001\n$/)
  assert.equal(ours, theirs)
})

test('go-libp2p-daemon\'s Go client (p2pclient) drives two of our daemons: identify, connect, streams both ways, DHT, pubsub', { timeout: 900_000 }, async (t) => {
  const { goClient } = await buildP2pd()
  const dir = await mkdtemp(join(tmpdir(), 'go-client-'))
  const daemons: RunningCli[] = []
  t.after(async () => {
    for (const d of daemons) await d.stop('SIGTERM')
    await rm(dir, { recursive: true, force: true })
  })
  const controls: string[] = []
  for (const [name, listen] of [['a', `/unix${join(dir, 'a.sock')}`], ['b', '/ip4/127.0.0.1/tcp/0']]) {
    const d = startCli(['daemon', '-listen', listen, '-hostAddrs', '/ip4/127.0.0.1/tcp/0', '-dataDir', join(dir, name), '-dhtServer', '-pubsub'])
    daemons.push(d)
    controls.push((await d.nextLine('stdout', l => l.startsWith('Control socket: '))).slice('Control socket: '.length))
  }
  const out = await new Promise<string>((resolve, reject) => {
    execFile(goClient, ['-a', controls[0], '-b', controls[1], '-la', `/unix${join(dir, 'a-handlers.sock')}`], { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${err.message}\n${stdout}\n${stderr}`))
      else resolve(stdout)
    })
  })
  const steps = new Map(out.trim().split('\n').map(l => { const [status, step, ...rest] = l.split(' '); return [step, `${status} ${rest.join(' ')}`] }))
  assert.equal(steps.get('stream-a-to-b'), 'ok FROM A TO B')
  assert.equal(steps.get('stream-b-to-a'), 'ok FROM B TO A')
  for (const step of ['identify', 'connect', 'dht-find-peer', 'dht-get-public-key', 'dht-provide', 'dht-find-providers', 'dht-get-closest-peers', 'pubsub-subscribe', 'pubsub-get-topics', 'pubsub-list-peers']) {
    assert.match(steps.get(step) ?? 'missing', /^ok /, `${step}:\n${out}`)
  }
  assert.match(steps.get('pubsub-receive') ?? '', /^ok hello from go 12D3KooW/)
  assert.equal(steps.get('pubsub-get-topics'), 'ok go-client-topic')
})
