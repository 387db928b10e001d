/**
 * The embedded on-disk Datastore (Node-only): one SQLite file through node:sqlite, which ships
 * with Node 22.5+ (no native addon to build). One table `kv(key TEXT PRIMARY KEY, value BLOB)`,
 * WAL journaling (readers never block the writer, and a crash loses at most the last commit),
 * statements prepared once, batches in one transaction.
 *
 * Some Node 22 releases print "ExperimentalWarning: SQLite is an experimental feature" when
 * node:sqlite is first loaded. The library does not silence warnings in an application's
 * process (start Node with `--disable-warning=ExperimentalWarning` to hide it); the
 * `ts-libp2p` command drops that one warning in its own process (src/cli/quiet-sqlite-warning.ts).
 *
 * node:sqlite is synchronous; every call here is a short indexed lookup or a bounded page, so
 * running them on the event loop is cheaper than a thread hop. Queries read in pages of
 * `QUERY_PAGE_SIZE` rows so no statement stays open across an `await` (which would pin a WAL
 * snapshot and make close() fail).
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import type { StatementSync } from 'node:sqlite'
import type { AbortOptions } from '../interface/common.ts'
import type { Datastore, DatastoreQuery, Pair } from '../interface/datastore.ts'
import { throwIfAborted } from '../util/abort.ts'
import { NotStartedError } from '../util/errors.ts'
import { assertValidKey, assertValidValue, prefixUpperBound } from './keys.ts'

/** The file created inside the datastore directory. */
export const DATASTORE_FILE_NAME = 'datastore.sqlite'
const QUERY_PAGE_SIZE = 256

type BatchOp = { type: 'put', key: string, value: Uint8Array } | { type: 'delete', key: string }

interface Statements {
  get: StatementSync
  has: StatementSync
  put: StatementSync
  delete: StatementSync
  /** [lower, upper, limit], lower inclusive. */
  rangeFrom: StatementSync
  /** [lower, upper, limit], lower exclusive (the next page). */
  rangeAfter: StatementSync
  /** [lower, limit]: no upper bound. */
  openFrom: StatementSync
  openAfter: StatementSync
}

export interface SqliteDatastoreOptions {
  /** SQLite's `synchronous` setting (default NORMAL: durable across process crashes; a power
   * loss may lose the last commits, never corrupt the file). */
  synchronous?: 'OFF' | 'NORMAL' | 'FULL'
}

export class SqliteDatastore implements Datastore {
  /** The database file path (or ':memory:'). */
  readonly path: string
  #db: DatabaseSync | undefined
  #statements: Statements | undefined

  /** Opens (creating if needed) `<dir>/datastore.sqlite`; `dir` ':memory:' keeps it in RAM. */
  constructor (dir: string, options: SqliteDatastoreOptions = {}) {
    if (dir === ':memory:') {
      this.path = dir
    } else {
      mkdirSync(dir, { recursive: true })
      this.path = join(dir, DATASTORE_FILE_NAME)
    }
    const db = new DatabaseSync(this.path)
    try {
      db.exec('PRAGMA journal_mode = WAL')
      db.exec(`PRAGMA synchronous = ${options.synchronous ?? 'NORMAL'}`)
      db.exec('PRAGMA busy_timeout = 5000')
      db.exec('CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL) WITHOUT ROWID')
      this.#statements = {
        get: db.prepare('SELECT value FROM kv WHERE key = ?'),
        has: db.prepare('SELECT 1 AS found FROM kv WHERE key = ?'),
        put: db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
        delete: db.prepare('DELETE FROM kv WHERE key = ?'),
        rangeFrom: db.prepare('SELECT key, value FROM kv WHERE key >= ? AND key < ? ORDER BY key LIMIT ?'),
        rangeAfter: db.prepare('SELECT key, value FROM kv WHERE key > ? AND key < ? ORDER BY key LIMIT ?'),
        openFrom: db.prepare('SELECT key, value FROM kv WHERE key >= ? ORDER BY key LIMIT ?'),
        openAfter: db.prepare('SELECT key, value FROM kv WHERE key > ? ORDER BY key LIMIT ?')
      }
    } catch (err) {
      db.close()
      throw err
    }
    this.#db = db
  }

  async open (): Promise<void> {
    if (this.#db === undefined) throw new NotStartedError('a closed SqliteDatastore cannot be reopened; create a new one')
  }

  async close (): Promise<void> {
    const db = this.#db
    this.#db = undefined
    this.#statements = undefined
    if (db !== undefined && db.isOpen) db.close()
  }

  async get (key: string, options?: AbortOptions): Promise<Uint8Array | undefined> {
    const s = this.#check(options)
    assertValidKey(key)
    const row = s.get.get(key) as { value: Uint8Array } | undefined
    return row?.value
  }

  async has (key: string, options?: AbortOptions): Promise<boolean> {
    const s = this.#check(options)
    assertValidKey(key)
    return s.has.get(key) !== undefined
  }

  async put (key: string, value: Uint8Array, options?: AbortOptions): Promise<void> {
    const s = this.#check(options)
    assertValidKey(key)
    assertValidValue(value)
    s.put.run(key, value)
  }

  async delete (key: string, options?: AbortOptions): Promise<void> {
    const s = this.#check(options)
    assertValidKey(key)
    s.delete.run(key)
  }

  async batch (ops: BatchOp[], options?: AbortOptions): Promise<void> {
    const s = this.#check(options)
    for (const op of ops) {
      assertValidKey(op.key)
      if (op.type === 'put') assertValidValue(op.value)
    }
    const db = this.#db as DatabaseSync
    db.exec('BEGIN IMMEDIATE')
    try {
      for (const op of ops) {
        if (op.type === 'put') s.put.run(op.key, op.value)
        else s.delete.run(op.key)
      }
      db.exec('COMMIT')
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK')
      throw err
    }
  }

  async * query (query: DatastoreQuery = {}): AsyncIterable<Pair> {
    this.#check(query)
    const prefix = query.prefix ?? ''
    assertValidKey(prefix)
    const upper = prefixUpperBound(prefix)
    let remaining = query.limit ?? Infinity
    let lower = prefix
    let first = true
    while (remaining > 0) {
      const s = this.#check(query)
      const pageSize = Math.min(QUERY_PAGE_SIZE, remaining)
      const rows = (upper !== undefined
        ? (first ? s.rangeFrom : s.rangeAfter).all(lower, upper, pageSize)
        : (first ? s.openFrom : s.openAfter).all(lower, pageSize)) as unknown as Pair[]
      first = false
      for (const row of rows) yield { key: row.key, value: row.value }
      if (rows.length < pageSize) return
      remaining -= rows.length
      lower = rows[rows.length - 1].key
    }
  }

  #check (options?: AbortOptions): Statements {
    const s = this.#statements
    if (s === undefined) throw new NotStartedError('the datastore is closed')
    throwIfAborted(options?.signal)
    return s
  }
}

/** The Node implementation behind `#store-disk` (see createDatastore in index.ts). */
export function openDiskDatastore (dir: string): Datastore {
  return new SqliteDatastore(dir)
}
