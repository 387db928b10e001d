/**
 * A minimal key-value store the node persists into (peer store, keychain, DHT records...).
 * Keys are '/'-separated paths like '/peers/<id>'. Backends: memory (src/store/memory.ts),
 * the embedded on-disk default (src/store/sqlite.node.ts, node:sqlite) and browser storage.
 */
import type { AbortOptions } from './common.ts'

export interface Pair { key: string, value: Uint8Array }

export interface DatastoreQuery extends AbortOptions {
  /** Only keys starting with this prefix. */
  prefix?: string
  limit?: number
}

export interface Datastore {
  get(key: string, options?: AbortOptions): Promise<Uint8Array | undefined>
  put(key: string, value: Uint8Array, options?: AbortOptions): Promise<void>
  has(key: string, options?: AbortOptions): Promise<boolean>
  delete(key: string, options?: AbortOptions): Promise<void>
  /** Keys and values in key order. */
  query(query?: DatastoreQuery): AsyncIterable<Pair>
  /** Applies puts and deletes atomically. */
  batch(ops: Array<{ type: 'put', key: string, value: Uint8Array } | { type: 'delete', key: string }>, options?: AbortOptions): Promise<void>
  open?(): Promise<void>
  close?(): Promise<void>
}
