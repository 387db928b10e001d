/**
 * The DHT parts of the command line: `start --dht server --bootstrap MA --provide CID` and the
 * `dht` queries, run as real processes against each other on loopback.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startCli, type RunningCli } from '../cli/run-cli.ts'
import { generateKeyPair, publicKeyToProtobuf } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'

const CID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

interface StartLine { peerId: string, addrs: string[] }

describe('ts-libp2p start --dht and ts-libp2p dht', { timeout: 120_000 }, () => {
  const running: RunningCli[] = []
  const dirs: string[] = []
  const started: StartLine[] = []

  async function start (args: string[]): Promise<StartLine> {
    const dir = await mkdtemp(join(tmpdir(), 'ts-libp2p-dht-'))
    dirs.push(dir)
    const cli = startCli(['start', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dir, '--dht', 'server', ...args])
    running.push(cli)
    const line = JSON.parse(await cli.nextLine('stdout')) as StartLine
    started.push(line)
    return line
  }

  before(async () => {
    const a = await start([])
    await start(['--bootstrap', a.addrs[0], '--provide', CID])
    await start(['--bootstrap', a.addrs[0]])
    // B announces the CID once it has joined
    const provided = JSON.parse(await running[1].nextLine('stdout', l => l.includes('provided'), 30_000)) as { provided: string, accepted: number }
    assert.equal(provided.provided, CID)
    assert.ok(provided.accepted >= 1)
  })

  after(async () => {
    for (const cli of running) assert.equal(await cli.stop(), 0)
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  it('dht find-peer prints the peer and its addresses', async () => {
    const r = await runCli(['dht', 'find-peer', started[2].peerId, '--bootstrap', started[0].addrs[0]])
    assert.equal(r.code, 0, r.stderr)
    const line = JSON.parse(r.stdout) as StartLine
    assert.equal(line.peerId, started[2].peerId)
    assert.ok(started[2].addrs.some(a => a.startsWith(line.addrs[0])))
  })

  it('dht find-providers finds what start --provide announced', async () => {
    const r = await runCli(['dht', 'find-providers', CID, '--bootstrap', started[2].addrs[0]])
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trim().split('\n').map(l => JSON.parse(l) as StartLine)
    assert.ok(lines.some(l => l.peerId === started[1].peerId))
  })

  it('dht put then dht get from another entry point; closest-peers lists the servers', async () => {
    const key = await generateKeyPair('Ed25519')
    const id = peerIdFromPrivateKey(key).toString()
    const value = Buffer.from(publicKeyToProtobuf(key.publicKey)).toString('base64')
    const put = await runCli(['dht', 'put', `/pk/${id}`, value, '--bootstrap', started[0].addrs[0]])
    assert.equal(put.code, 0, put.stderr)
    assert.ok((JSON.parse(put.stdout) as { accepted: number }).accepted >= 1)
    const get = await runCli(['dht', 'get', `/pk/${id}`, '--bootstrap', started[1].addrs[0]])
    assert.equal(get.code, 0, get.stderr)
    assert.deepEqual(JSON.parse(get.stdout), { key: `/pk/${id}`, value })
    const closest = await runCli(['dht', 'closest-peers', id, '--bootstrap', started[0].addrs[0]])
    assert.equal(closest.code, 0, closest.stderr)
    const ids = closest.stdout.trim().split('\n').map(l => (JSON.parse(l) as StartLine).peerId)
    for (const s of started) assert.ok(ids.includes(s.peerId))
  })

  it('a query that finds nothing exits 1 with one stderr line; bad usage exits 2', async () => {
    const key = await generateKeyPair('Ed25519')
    const missing = await runCli(['dht', 'get', `/pk/${peerIdFromPrivateKey(key).toString()}`, '--bootstrap', started[0].addrs[0]])
    assert.equal(missing.code, 1)
    assert.equal(missing.stdout, '')
    // piped, progress goes to stderr as JSON lines (requests sent so far), then the one-line reason
    const errLines = missing.stderr.trimEnd().split('\n')
    assert.match(errLines.at(-1) ?? '', /^ts-libp2p: .+$/)
    const progress = errLines.slice(0, -1).map(l => JSON.parse(l) as { type: string, label: string, done: number, detail?: string })
    assert.ok(progress.length >= 2, missing.stderr)
    for (const p of progress) assert.deepEqual([p.type, p.label], ['progress', 'dht get'])
    assert.ok((progress.at(-1)?.done ?? 0) >= 1, 'the last line counts the requests the lookup sent')
    assert.match(progress.at(-1)?.detail ?? '', /^sent, \d+ answered, \d+ failed, hop \d+$/)
    const quiet = await runCli(['dht', 'get', `/pk/${peerIdFromPrivateKey(key).toString()}`, '--bootstrap', started[0].addrs[0], '--quiet'])
    assert.equal(quiet.code, 1)
    assert.match(quiet.stderr, /^ts-libp2p: .+\n$/, '--quiet: only the reason')
    for (const args of [['dht'], ['dht', 'find-peer', 'nope', '--bootstrap', started[0].addrs[0]], ['dht', 'get', '/pk/x'], ['start', '--provide', CID], ['start', '--dht', 'maybe']]) {
      const r = await runCli(args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, /^ts-libp2p: .+\n$/)
    }
  })
})
