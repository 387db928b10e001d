/**
 * `ts-libp2p start` with its defaults (the public network) in a network namespace with no route
 * out: it must come up as fast as ever, say once that the bootstrap peers cannot be reached,
 * keep retrying with backoff without crashing, and still serve a node that bootstraps from it.
 * The offline switch is turned off (TS_LIBP2P_OFFLINE=0) only inside this namespace, where a
 * packet cannot leave: the namespace has nothing but its loopback.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NetworkNamespace, natLabSkip, processLines, CLI } from '../support/lab/index.ts'
import type { ProcessLines } from '../support/lab/index.ts'
import { LAB_PREFIX, registerForTeardown, unregisterForTeardown } from '../support/lab/teardown.ts'

const skip = await natLabSkip()
const UNREACHABLE = /cannot reach any bootstrap peer/

describe('the public network by default, with no route out', { skip }, () => {
  let namespace: NetworkNamespace
  const dirs: string[] = []

  /** `ts-libp2p start ARGS` in the namespace, stderr merged into stdout so its lines can be awaited. */
  async function start (args: string[], env: Record<string, string>): Promise<ProcessLines> {
    const dir = await mkdtemp(join(tmpdir(), 'tspublic-'))
    dirs.push(dir)
    const command = [process.execPath, CLI, 'start', '--data-dir', dir, '--listen', '/ip4/127.0.0.1/tcp/0', ...args].map(a => `'${a}'`).join(' ')
    return processLines(namespace.spawn('sh', ['-c', `exec ${command} 2>&1`], { env: { ...process.env, ...env } }))
  }

  before(async () => {
    namespace = await NetworkNamespace.create(`${LAB_PREFIX}${process.pid}pub`)
    registerForTeardown(namespace)
  })

  after(async () => {
    namespace?.destroySync()
    if (namespace !== undefined) unregisterForTeardown(namespace)
    await Promise.all(dirs.map(async d => { await rm(d, { recursive: true, force: true }) }))
  })

  test('start line within 2 s, one line about the bootstrap failure, retries without crashing, and a second node still joins', async () => {
    // the bootstrap service's debug lines show the retries (and their backoff) as they happen
    const a = await start(['--events'], { TS_LIBP2P_OFFLINE: '0', DEBUG: 'ts-libp2p:bootstrap' })
    const startLine = JSON.parse(await a.nextLine(l => l.startsWith('{"peerId"'), 30_000)) as { peerId: string, addrs: string[] }
    // the node's own clock: process start to start line, without the spawn through `ip netns exec`
    const { ms } = JSON.parse(await a.nextLine(l => l.startsWith('{"event":"started"'), 5_000)) as { ms: number }
    assert.ok(ms < 2_000, `the start line came ${ms} ms after the process started`)

    await a.nextLine(l => UNREACHABLE.test(l), 20_000)
    // three rounds of retries later (1 s, 2 s, 4 s backoff) the node still runs and said it once
    await a.nextLine(l => /retrying in 4000 ms/.test(l), 30_000)
    assert.equal(a.child.exitCode, null, 'the node is still running')
    const said = a.stdoutText().split('\n').filter(l => UNREACHABLE.test(l))
    assert.equal(said.length, 1, said.join('\n'))
    assert.match(said[0], /bootstrap\.libp2p\.io|DNS|dns/i)

    const b = await start(['--bootstrap', startLine.addrs[0], '--events'], { TS_LIBP2P_OFFLINE: '0', DEBUG: '' })
    const bJoined = await b.nextLine(l => l.includes('"event":"peer:connect"') && l.includes(startLine.peerId), 20_000)
    assert.ok(bJoined)
    await a.nextLine(l => l.includes('"event":"peer:connect"'), 20_000)
    assert.ok(!b.stdoutText().split('\n').some(l => UNREACHABLE.test(l)), 'a node with --bootstrap does not use the public list')
    await b.stop()
    await a.stop()
  })
})
