/**
 * `ts-libp2p add` then `ts-libp2p start` serves the file, and `ts-libp2p get` (another process)
 * fetches it, verified, with kubo's CID, into a file or onto stdout; progress comes as JSON lines
 * when not on a terminal (on stdout beside the result with -o, on stderr when stdout is the file).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { BIN, runCli, startCli } from './run-cli.ts'
import { addFile } from '../../src/exchange/unixfs/index.ts'
import { memoryBlockstore } from '../../src/exchange/blockstore.ts'
import { seededBytes } from '../support/random.ts'

test('add prints the root CID, start serves it, get fetches it into a file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-cli-add-'))
  try {
    const bytes = seededBytes(1024 * 1024 + 17, 5)
    const input = join(dir, 'in.bin')
    writeFileSync(input, bytes)
    const dataDir = join(dir, 'data')
    const add = await runCli(['add', input, '--data-dir', dataDir, '--cid-version', '1'], { timeoutMs: 60_000 })
    assert.equal(add.code, 0, add.stderr)
    const lines = add.stdout.trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
    const result = lines[lines.length - 1]
    const expected = (await addFile(bytes, memoryBlockstore(), { cidVersion: 1 })).cid.toString()
    assert.deepEqual(result, { cid: expected, size: bytes.length })
    assert.ok(lines.slice(0, -1).every(l => l.type === 'progress'), add.stdout)

    const server = startCli(['start', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--bootstrap', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN', '--no-mdns', '--no-nat-traversal'])
    try {
      const started = JSON.parse(await server.nextLine('stdout', l => l.includes('"addrs"'), 30_000)) as { addrs: string[] }
      const output = join(dir, 'out.bin')
      const get = await runCli(['get', expected, '--bootstrap', started.addrs[0], '-o', output, '--timeout', '60000'], { timeoutMs: 90_000 })
      assert.equal(get.code, 0, get.stderr)
      const getLines = get.stdout.trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
      assert.deepEqual(getLines[getLines.length - 1], { cid: expected, size: bytes.length, file: output })
      assert.deepEqual(new Uint8Array(readFileSync(output)), bytes)

      // without -o stdout carries the file's bytes and nothing else; progress goes to stderr
      const piped = await runBinary(['get', expected, '--bootstrap', started.addrs[0], '--timeout', '60000'], 90_000)
      assert.equal(piped.code, 0, piped.stderr)
      assert.deepEqual(new Uint8Array(piped.stdout), bytes)
      const progressLines = piped.stderr.trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
      assert.deepEqual(progressLines[progressLines.length - 1], { cid: expected, size: bytes.length })
      const last = progressLines[progressLines.length - 2]
      assert.deepEqual(last, { type: 'progress', label: 'fetching', done: bytes.length, total: bytes.length })

      const quiet = await runBinary(['get', expected, '--bootstrap', started.addrs[0], '--quiet'], 90_000)
      assert.equal(quiet.code, 0, quiet.stderr)
      assert.deepEqual(new Uint8Array(quiet.stdout), bytes)
      assert.equal(quiet.stderr, '')

      // `get CID > FILE` on a terminal (util-linux `script` gives it a pty): the bar is drawn on
      // the terminal's stderr while the redirected stdout gets exactly the file
      const redirected = join(dir, 'redirected.bin')
      const command = [process.execPath, BIN, 'get', expected, '--bootstrap', started.addrs[0]].map(a => `'${a}'`).join(' ') + ` > '${redirected}'`
      const terminal = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { env: { ...process.env, DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] })
      let screen = ''
      terminal.stdout.setEncoding('utf8').on('data', (d: string) => { screen += d })
      const [terminalCode] = await once(terminal, 'close') as [number | null]
      assert.equal(terminalCode, 0, screen)
      assert.match(screen, /\rfetching \[[#.]{24}\] +\d+% /)
      assert.match(screen, /\r\u001b\[K/, 'the bar line is cleared at the end')
      assert.doesNotMatch(screen, /"type"/, 'no JSON lines on a terminal')
      assert.deepEqual(new Uint8Array(readFileSync(redirected)), bytes)
    } finally {
      await server.stop()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

/** Runs the CLI keeping stdout as bytes (the file) and stderr as text. */
async function runBinary (args: string[], timeoutMs: number): Promise<{ code: number | null, stdout: Buffer, stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] })
  const chunks: Buffer[] = []
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { chunks.push(d) })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
  const [code] = await once(child, 'close') as [number | null]
  clearTimeout(timer)
  return { code, stdout: Buffer.concat(chunks), stderr }
}

test('get with a malformed CID or without --bootstrap is a usage error', async () => {
  const bad = await runCli(['get', 'not-a-cid', '--bootstrap', '/ip4/127.0.0.1/tcp/1'])
  assert.equal(bad.code, 2, bad.stderr)
  const none = await runCli(['get', 'QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH'])
  assert.equal(none.code, 2, none.stderr)
  assert.match(none.stderr, /--bootstrap/)
})
