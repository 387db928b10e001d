/**
 * Crash safety: `kill -9` during identity creation and during peer-store writes, again and
 * again. Every time, the data directory still opens: identities that were reported are
 * intact with the same peer id (write-then-rename: a key is whole or absent), the SQLite store
 * (WAL) passes `PRAGMA integrity_check`, and every peer whose write was acknowledged before the
 * kill is there, readable, with what was written.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { DatabaseSync } from 'node:sqlite'
import { loadOrCreateIdentity } from '../../src/cli/identity.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { PersistentPeerStore } from '../../src/peer-store/persistent-peer-store.ts'
import { SqliteDatastore, DATASTORE_FILE_NAME } from '../../src/store/sqlite.node.ts'
import { peerOf } from './crash-child.ts'

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url))
const ROUNDS = 6

/**
 * Runs the child until it has printed `lines` lines (a random point in its work), then
 * SIGKILLs it at once; resolves with what it printed. No sleep: the kill follows the child's
 * own progress.
 */
async function runAndKill (mode: string, dir: string, lines: number): Promise<string[]> {
  const child = spawn(process.execPath, [CHILD, mode, dir], { stdio: ['ignore', 'pipe', 'pipe'] })
  const seen: string[] = []
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const exited = new Promise<NodeJS.Signals | null>(resolve => { child.once('exit', (_code, signal) => { resolve(signal) }) })
  const rl = createInterface({ input: child.stdout })
  rl.on('line', (line) => {
    seen.push(line)
    if (seen.length === lines) child.kill('SIGKILL')
  })
  const signal = await exited
  assert.equal(signal, 'SIGKILL', `the child died on its own: ${stderr}`)
  rl.close()
  return seen
}

test('kill -9 during identity creation never leaves an identity that cannot load, nor changes a reported one', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-crash-id-'))
  try {
    const reported = new Map<string, string>()
    for (let round = 0; round < ROUNDS; round++) {
      // each round resumes where the last stopped: created dirs are reloaded, then new ones made
      const lines = await runAndKill('identity', dir, 3 + Math.floor(Math.random() * 40))
      for (const line of lines) {
        const [, i, peerId] = line.split(' ')
        const before = reported.get(i)
        if (before !== undefined) assert.equal(peerId, before, `identity ${i} changed across a crash`)
        reported.set(i, peerId)
      }
    }
    const dirs = readdirSync(dir).filter(d => d.startsWith('id-'))
    assert.ok(dirs.length >= reported.size)
    for (const d of dirs) {
      const key = await loadOrCreateIdentity(join(dir, d))
      const i = d.slice(3)
      if (reported.has(i)) assert.equal(peerIdFromPrivateKey(key).toString(), reported.get(i))
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('kill -9 during peer-store writes: the store opens, passes integrity_check, and keeps every acknowledged write', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-crash-peers-'))
  try {
    let acknowledged = -1
    for (let round = 0; round < ROUNDS; round++) {
      const lines = await runAndKill('peers', dir, 5 + Math.floor(Math.random() * 60))
      // the child starts again from peer 0 each round (merge is idempotent); what counts is the highest acknowledged
      for (const line of lines) acknowledged = Math.max(acknowledged, Number(line.split(' ')[1]))
      const db = new DatabaseSync(join(dir, DATASTORE_FILE_NAME))
      try {
        assert.deepEqual(db.prepare('PRAGMA integrity_check').all().map(row => ({ ...row })), [{ integrity_check: 'ok' }])
      } finally {
        db.close()
      }
    }
    const datastore = new SqliteDatastore(dir)
    await datastore.open()
    const store = new PersistentPeerStore({ datastore, peerId: peerOf(1_000_000) })
    try {
      for (let i = 0; i <= acknowledged; i++) {
        const peer = await store.get(peerOf(i))
        assert.equal(peer.addresses[0].multiaddr.toString(), `/ip4/10.0.${(i >> 8) & 255}.${i & 255}/tcp/4001`)
        assert.equal(new TextDecoder().decode(peer.metadata.get('n')), String(i))
        assert.equal(peer.tags.get('seen')?.value, i % 100)
      }
    } finally {
      await datastore.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
