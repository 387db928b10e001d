/**
 * A Datastore in the browser's IndexedDB: the embedded default in browsers (what
 * `createDatastore(name)` opens there, as SQLite is in Node), so a page keeps its identity and
 * peer store across reloads.
 *
 * Keys are stored as their UTF-8 bytes: IndexedDB compares binary keys byte by byte, which is
 * code point order (keys.ts), while it compares string keys by UTF-16 code units, which is not.
 * A prefix query is then one key range, [utf8(prefix), utf8(prefixUpperBound(prefix))).
 *
 * IndexedDB commits a transaction as soon as the event loop turns with no request pending, so no
 * transaction can stay open across a `for await` step of the caller. `query()` therefore reads
 * pages of QUERY_PAGE_SIZE pairs, each in its own transaction, resuming after the last key it
 * returned: writes between pages neither break the walk nor make it repeat a key.
 */
import type { AbortOptions } from '../interface/common.ts'
import type { Datastore, DatastoreQuery, Pair } from '../interface/datastore.ts'
import { throwIfAborted } from '../util/abort.ts'
import { utf8Decode, utf8Encode } from '../util/bytes.ts'
import { Libp2pError, NotStartedError } from '../util/errors.ts'
import { assertValidKey, assertValidValue, prefixUpperBound } from './keys.ts'

const STORE = 'pairs'
const SCHEMA_VERSION = 1
/** Pairs read per query transaction: large enough to amortise a transaction, small in memory. */
export const QUERY_PAGE_SIZE = 128

/** IndexedDB refused or failed a request (quota, a blocked upgrade, a closed database...). */
export class IndexedDBError extends Libp2pError {
  override name = 'IndexedDBError' as const
  static readonly code = 'ERR_INDEXEDDB'
  constructor (message: string, options?: ErrorOptions) {
    super(message, IndexedDBError.code, options)
  }
}

type BatchOp = { type: 'put', key: string, value: Uint8Array } | { type: 'delete', key: string }

export class IndexedDBDatastore implements Datastore {
  /** The IndexedDB database name (one database per datastore). */
  readonly name: string
  #db: Promise<IDBDatabase> | undefined
  #closed = false

  constructor (name: string) {
    this.name = name
  }

  /** Opens (or reopens after close) the database; every operation also opens it on first use. */
  async open (): Promise<void> {
    this.#closed = false
    await this.#database()
  }

  async close (): Promise<void> {
    this.#closed = true
    const db = this.#db
    this.#db = undefined
    if (db !== undefined) (await db.catch(() => undefined))?.close()
  }

  async get (key: string, options?: AbortOptions): Promise<Uint8Array | undefined> {
    this.#check(options)
    assertValidKey(key)
    const store = await this.#store('readonly')
    const value = await request<unknown>(store.get(idbKey(key)))
    return value === undefined ? undefined : value as Uint8Array
  }

  async has (key: string, options?: AbortOptions): Promise<boolean> {
    this.#check(options)
    assertValidKey(key)
    const store = await this.#store('readonly')
    return await request<number>(store.count(idbKey(key))) > 0
  }

  async put (key: string, value: Uint8Array, options?: AbortOptions): Promise<void> {
    await this.batch([{ type: 'put', key, value }], options)
  }

  async delete (key: string, options?: AbortOptions): Promise<void> {
    await this.batch([{ type: 'delete', key }], options)
  }

  async batch (ops: BatchOp[], options?: AbortOptions): Promise<void> {
    this.#check(options)
    // Validate everything first: a batch applies completely or not at all. The structured
    // clone IndexedDB makes is the copy that keeps a caller's later buffer reuse out.
    for (const op of ops) {
      assertValidKey(op.key)
      if (op.type === 'put') assertValidValue(op.value)
    }
    const tx = await this.#transaction('readwrite')
    const store = tx.objectStore(STORE)
    for (const op of ops) {
      if (op.type === 'put') store.put(op.value, idbKey(op.key))
      else store.delete(idbKey(op.key))
    }
    await committed(tx)
  }

  async * query (query: DatastoreQuery = {}): AsyncIterable<Pair> {
    this.#check(query)
    const prefix = query.prefix ?? ''
    assertValidKey(prefix)
    const upper = prefixUpperBound(prefix)
    const upperBytes = upper === undefined ? undefined : idbKey(upper)
    let left = query.limit ?? Infinity
    let after: Uint8Array<ArrayBuffer> | undefined
    while (left > 0) {
      this.#check(query)
      const lower = after ?? idbKey(prefix)
      const range = upperBytes === undefined
        ? IDBKeyRange.lowerBound(lower, after !== undefined)
        : IDBKeyRange.bound(lower, upperBytes, after !== undefined, true)
      const count = Math.min(left, QUERY_PAGE_SIZE)
      const store = await this.#store('readonly')
      // Both requests run in one transaction, so keys and values belong to the same snapshot.
      const [keys, values] = await Promise.all([
        request<IDBValidKey[]>(store.getAllKeys(range, count)),
        request<unknown[]>(store.getAll(range, count))
      ])
      for (let i = 0; i < keys.length; i++) {
        yield { key: utf8Decode(new Uint8Array(keys[i] as ArrayBuffer)), value: values[i] as Uint8Array }
      }
      if (keys.length < count) return
      left -= keys.length
      after = new Uint8Array(keys[keys.length - 1] as ArrayBuffer)
    }
  }

  #check (options?: AbortOptions): void {
    if (this.#closed) throw new NotStartedError('the datastore is closed')
    throwIfAborted(options?.signal)
  }

  async #store (mode: IDBTransactionMode): Promise<IDBObjectStore> {
    return (await this.#transaction(mode)).objectStore(STORE)
  }

  async #transaction (mode: IDBTransactionMode): Promise<IDBTransaction> {
    const db = await this.#database()
    try {
      return db.transaction(STORE, mode)
    } catch (err) {
      // The connection was closed under us (another tab upgraded the schema, or the browser
      // evicted the database): forget it, so the next operation opens it again.
      if (this.#db !== undefined && await this.#db.catch(() => undefined) === db) this.#db = undefined
      throw new IndexedDBError(`IndexedDB database "${this.name}" cannot start a transaction: ${(err as Error).message}`, { cause: err })
    }
  }

  async #database (): Promise<IDBDatabase> {
    if (this.#closed) throw new NotStartedError('the datastore is closed')
    this.#db ??= openDatabase(this.name)
    const pending = this.#db
    try {
      return await pending
    } catch (err) {
      if (this.#db === pending) this.#db = undefined // let a later call try again
      throw err
    }
  }
}

/** A key as IndexedDB stores it: its UTF-8 bytes (a binary key, compared byte by byte). */
function idbKey (key: string): Uint8Array<ArrayBuffer> {
  return utf8Encode(key) as Uint8Array<ArrayBuffer>
}

async function openDatabase (name: string): Promise<IDBDatabase> {
  if (typeof indexedDB === 'undefined') throw new IndexedDBError('IndexedDB is not available in this runtime')
  const open = indexedDB.open(name, SCHEMA_VERSION)
  open.onupgradeneeded = () => {
    if (!open.result.objectStoreNames.contains(STORE)) open.result.createObjectStore(STORE)
  }
  // Another tab holding an older version open would make us wait forever: fail instead.
  const blocked = new Promise<never>((_resolve, reject) => {
    open.onblocked = () => { reject(new IndexedDBError(`opening IndexedDB database "${name}" is blocked by another open connection`)) }
  })
  const db = await Promise.race([request<IDBDatabase>(open), blocked])
  // A newer schema in another tab asks us to let go; close so it is not blocked by us.
  db.onversionchange = () => { db.close() }
  return db
}

async function request<T> (req: IDBRequest): Promise<T> {
  return await new Promise<T>((resolve, reject) => {
    req.onsuccess = () => { resolve(req.result as T) }
    req.onerror = () => { reject(new IndexedDBError(`IndexedDB request failed: ${req.error?.message ?? 'unknown error'}`, { cause: req.error })) }
  })
}

async function committed (tx: IDBTransaction): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => { resolve() }
    tx.onerror = () => { reject(new IndexedDBError(`IndexedDB transaction failed: ${tx.error?.message ?? 'unknown error'}`, { cause: tx.error })) }
    tx.onabort = () => { reject(new IndexedDBError(`IndexedDB transaction aborted: ${tx.error?.message ?? 'aborted'}`, { cause: tx.error })) }
  })
}
