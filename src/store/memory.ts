/**
 * An in-memory Datastore: the default in browsers and in tests. Keys are kept in a sorted array
 * beside a Map, so a prefix query is a binary search plus a walk over the matching keys.
 * Values are copied on put, so callers may reuse their buffers (e.g. a protobuf writer's).
 */
import type { AbortOptions } from '../interface/common.ts'
import type { Datastore, DatastoreQuery, Pair } from '../interface/datastore.ts'
import { throwIfAborted } from '../util/abort.ts'
import { NotStartedError } from '../util/errors.ts'
import { assertValidKey, assertValidValue, compareKeys } from './keys.ts'

type BatchOp = { type: 'put', key: string, value: Uint8Array } | { type: 'delete', key: string }

export class MemoryDatastore implements Datastore {
  readonly #values = new Map<string, Uint8Array>()
  /** Every key in `#values`, in code point order. */
  #sorted: string[] = []
  #closed = false

  /** Number of stored keys. */
  get size (): number { return this.#values.size }

  async open (): Promise<void> {
    this.#closed = false
  }

  async close (): Promise<void> {
    this.#closed = true
  }

  async get (key: string, options?: AbortOptions): Promise<Uint8Array | undefined> {
    this.#check(options)
    assertValidKey(key)
    return this.#values.get(key)
  }

  async has (key: string, options?: AbortOptions): Promise<boolean> {
    this.#check(options)
    assertValidKey(key)
    return this.#values.has(key)
  }

  async put (key: string, value: Uint8Array, options?: AbortOptions): Promise<void> {
    this.#check(options)
    assertValidKey(key)
    assertValidValue(value)
    this.#put(key, value.slice())
  }

  async delete (key: string, options?: AbortOptions): Promise<void> {
    this.#check(options)
    assertValidKey(key)
    this.#delete(key)
  }

  async batch (ops: BatchOp[], options?: AbortOptions): Promise<void> {
    this.#check(options)
    // Validate everything first: a batch applies completely or not at all.
    const copies: Array<Uint8Array | undefined> = ops.map(op => {
      assertValidKey(op.key)
      if (op.type === 'put') {
        assertValidValue(op.value)
        return op.value.slice()
      }
      return undefined
    })
    ops.forEach((op, i) => {
      if (op.type === 'put') this.#put(op.key, copies[i] as Uint8Array)
      else this.#delete(op.key)
    })
  }

  async * query (query: DatastoreQuery = {}): AsyncIterable<Pair> {
    this.#check(query)
    const prefix = query.prefix ?? ''
    assertValidKey(prefix)
    const limit = query.limit ?? Infinity
    // A snapshot of the matching keys: writes during iteration do not disturb the walk.
    const start = this.#lowerBound(prefix)
    let end = start
    while (end < this.#sorted.length && this.#sorted[end].startsWith(prefix)) end++
    const keys = this.#sorted.slice(start, end)
    let yielded = 0
    for (const key of keys) {
      if (yielded >= limit) return
      this.#check(query)
      const value = this.#values.get(key)
      if (value === undefined) continue
      yielded++
      yield { key, value }
    }
  }

  #check (options?: AbortOptions): void {
    if (this.#closed) throw new NotStartedError('the datastore is closed')
    throwIfAborted(options?.signal)
  }

  #put (key: string, value: Uint8Array): void {
    if (!this.#values.has(key)) {
      const at = this.#lowerBound(key)
      this.#sorted.splice(at, 0, key)
    }
    this.#values.set(key, value)
  }

  #delete (key: string): void {
    if (!this.#values.delete(key)) return
    const at = this.#lowerBound(key)
    this.#sorted.splice(at, 1)
  }

  /** Index of the first key >= `key`. */
  #lowerBound (key: string): number {
    let lo = 0
    let hi = this.#sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (compareKeys(this.#sorted[mid], key) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
