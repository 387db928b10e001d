import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteDatastore, DATASTORE_FILE_NAME } from '../../src/store/sqlite.node.ts'
import { createDatastore } from '../../src/store/index.ts'
import { datastoreSuite } from './datastore-suite.ts'

const root = mkdtempSync(join(tmpdir(), 'ts-libp2p-store-'))
after(() => { rmSync(root, { recursive: true, force: true }) })
let counter = 0
const freshDir = (): string => join(root, `db${counter++}`)

datastoreSuite('sqlite (file)', () => new SqliteDatastore(freshDir()))
datastoreSuite('sqlite (:memory:)', () => new SqliteDatastore(':memory:'))

test('createDatastore(dir) opens the SQLite store in Node', async () => {
  const ds = createDatastore(freshDir())
  assert.ok(ds instanceof SqliteDatastore)
  await ds.close?.()
})

test('data survives close and reopen', async () => {
  const dir = freshDir()
  const first = new SqliteDatastore(dir)
  await first.put('/peers/a', Uint8Array.of(1, 2))
  await first.batch([{ type: 'put', key: '/peers/b', value: Uint8Array.of(3) }, { type: 'put', key: '/peers/c', value: Uint8Array.of(4) }, { type: 'delete', key: '/peers/c' }])
  await first.close()
  await assert.rejects(first.get('/peers/a'), { code: 'ERR_NOT_STARTED' })
  const second = new SqliteDatastore(dir)
  assert.deepEqual(await second.get('/peers/a'), Uint8Array.of(1, 2))
  assert.deepEqual(await second.get('/peers/b'), Uint8Array.of(3))
  assert.equal(await second.has('/peers/c'), false)
  await second.close()
})

test('a file that is not a database is refused when opening, not later', () => {
  const dir = freshDir()
  mkdirSync(dir)
  writeFileSync(join(dir, DATASTORE_FILE_NAME), 'this is not sqlite, only text long enough to look like a header. '.repeat(10))
  assert.throws(() => new SqliteDatastore(dir), /not a database/)
})
