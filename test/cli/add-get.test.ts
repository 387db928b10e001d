/**
 * `ts-libp2p add` then `ts-libp2p start` serves the file, and `ts-libp2p get` (another process)
 * fetches it, verified, with kubo's CID; progress comes as JSON lines when not on a terminal.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startCli } from './run-cli.ts'
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
    } finally {
      await server.stop()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('get with a malformed CID or without --bootstrap is a usage error', async () => {
  const bad = await runCli(['get', 'not-a-cid', '--bootstrap', '/ip4/127.0.0.1/tcp/1'])
  assert.equal(bad.code, 2, bad.stderr)
  const none = await runCli(['get', 'QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH'])
  assert.equal(none.code, 2, none.stderr)
  assert.match(none.stderr, /--bootstrap/)
})
