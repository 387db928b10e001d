/**
 * Progress of `perf` and `dht` on a real pseudo-terminal (util-linux `script`): perf draws a
 * byte bar on stderr and clears it before its final line, dht a spinner counting requests;
 * piped, perf adds nothing to its contract's JSON lines (and dht's JSON progress lines on
 * stderr are checked in test/dht/cli.test.ts); Ctrl-C mid-run exits 130 for both.
 */
import { describe, it, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server, type Socket } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startCli, type RunningCli } from './run-cli.ts'
import { hasScript, runOnTerminal } from './terminal.ts'
import { MiB, parsePerfOutput, startPerfServer } from '../protocols/perf-helpers.ts'
import { PERF_SERVER_PEER_ID } from '../protocols/perf-helpers.ts'

const noScript = hasScript() ? false : 'util-linux script is missing (it provides the pseudo-terminal)'

describe('perf progress', { timeout: 180_000 }, () => {
  let hostPort = ''
  const afterFns: Array<() => Promise<unknown>> = []
  before(async () => {
    ({ hostPort } = await startPerfServer({ after: fn => { afterFns.push(fn) } }))
  })
  after(async () => { for (const fn of afterFns) await fn() })

  it('on a terminal: a byte bar on stderr, cleared before the final line', { skip: noScript }, async () => {
    const { code, screen } = await runOnTerminal(['perf', '--server-address', hostPort, '--upload-bytes', String(8 * MiB), '--download-bytes', String(8 * MiB)])
    assert.equal(code, 0, screen)
    assert.match(screen, /\rperf \[[#.]{24}\] +\d+% [\d.]+ (B|KiB|MiB)\/16\.0 MiB/)
    assert.match(screen, /\r\u001b\[K\{"type":"final","timeSeconds":[\d.]+,"uploadBytes":8388608,"downloadBytes":8388608\}/, 'the bar is cleared before the final line')
  })

  it('piped: stdout is the contract\'s JSON lines only and stderr its one line, no bar', async () => {
    const r = await runCli(['perf', '--server-address', hostPort, '--upload-bytes', String(MiB), '--download-bytes', String(MiB)], { timeoutMs: 60_000 })
    assert.equal(r.code, 0, r.stderr)
    assert.doesNotMatch(r.stdout + r.stderr, /[\r\u001b]/)
    assert.match(r.stderr, /^perf: \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/\S+, upload 1048576 bytes, download 1048576 bytes\n$/)
    const final = parsePerfOutput(r.stdout).at(-1)
    assert.deepEqual([final?.type, final?.uploadBytes, final?.downloadBytes], ['final', MiB, MiB])
  })

  it('Ctrl-C mid-transfer exits 130', async () => {
    const client = startCli(['perf', '--server-address', hostPort, '--upload-bytes', '0', '--download-bytes', String(1024 * 1024 * MiB)])
    // interrupt once the first report says bytes are moving
    await client.nextLine('stdout', line => line.includes('"intermediary"'), 60_000)
    assert.equal(await client.stop('SIGINT'), 130, client.stderrText())
    assert.match(client.stderrText(), /ts-libp2p: perf interrupted/)
  })
})

describe('dht progress', { timeout: 180_000 }, () => {
  const running: RunningCli[] = []
  const dirs: string[] = []
  let bootstrap = ''
  before(async () => {
    for (let i = 0; i < 2; i++) {
      const dir = await mkdtemp(join(tmpdir(), 'ts-libp2p-dht-progress-'))
      dirs.push(dir)
      const cli = startCli(['start', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dir, '--dht', 'server', ...(bootstrap === '' ? [] : ['--bootstrap', bootstrap])])
      running.push(cli)
      const line = JSON.parse(await cli.nextLine('stdout', undefined, 60_000)) as { addrs: string[] }
      if (bootstrap === '') bootstrap = line.addrs[0]
    }
  })
  after(async () => {
    for (const cli of running) await cli.stop()
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  it('on a terminal: a spinner counting the requests, cleared before the results', { skip: noScript }, async () => {
    const { code, screen } = await runOnTerminal(['dht', 'closest-peers', 'some key', '--bootstrap', bootstrap])
    assert.equal(code, 0, screen)
    assert.match(screen, /\rdht closest-peers [|/\\-] \d+/)
    assert.match(screen, /\rdht closest-peers [|/\\-] [1-9]\d* sent, \d+ answered, \d+ failed, hop \d+/, 'the count of requests sent')
    assert.match(screen, /\r\u001b\[K\{"peerId":"12D3KooW/, 'the line is cleared before the first result')
  })

  it('Ctrl-C while joining exits 130', async () => {
    // a bootstrap peer that accepts the TCP connection and never says a word: the join hangs
    const sockets = new Set<Socket>()
    const silent: Server = createServer(socket => {
      sockets.add(socket)
      socket.on('error', () => {})
    })
    await new Promise<void>(resolve => { silent.listen(0, '127.0.0.1', resolve) })
    const connected = new Promise<void>(resolve => { silent.once('connection', () => { resolve() }) })
    const port = (silent.address() as { port: number }).port
    const client = startCli(['dht', 'get', 'a key', '--bootstrap', `/ip4/127.0.0.1/tcp/${port}/p2p/${PERF_SERVER_PEER_ID}`])
    try {
      await connected
      assert.equal(await client.stop('SIGINT'), 130, client.stderrText())
      assert.match(client.stderrText(), /ts-libp2p: dht get interrupted/)
    } finally {
      await client.stop('SIGKILL')
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => { silent.close(() => { resolve() }) })
    }
  })
})
