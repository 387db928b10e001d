/**
 * DHT value records in the node's datastore, under `/dht/record/<hex key>`, stored as the
 * wire `Record` with `timeReceived` set when we stored it. Records older than the maximum age
 * (36 h, as go) are treated as absent and deleted when met, so a restarted node serves what it
 * stored before unless it has expired.
 */
import type { Datastore } from '../interface/datastore.ts'
import type { AbortOptions } from '../interface/common.ts'
import { toHex } from '../util/bytes.ts'
import { decodeRecord, encodeRecord, type DhtRecord } from './message.ts'

const PREFIX = '/dht/record/'

export interface RecordStoreInit {
  datastore: Datastore
  /** Records older than this are dropped, in ms (default 36 h). */
  maxRecordAge?: number
}

export class RecordStore {
  readonly #datastore: Datastore
  readonly #maxAge: number

  constructor (init: RecordStoreInit) {
    this.#datastore = init.datastore
    this.#maxAge = init.maxRecordAge ?? 36 * 60 * 60 * 1000
  }

  async put (key: Uint8Array, value: Uint8Array, options?: AbortOptions): Promise<DhtRecord> {
    const record: DhtRecord = { key: key.slice(), value: value.slice(), timeReceived: new Date().toISOString() }
    await this.#datastore.put(PREFIX + toHex(key), encodeRecord(record), options)
    return record
  }

  /** The stored record, or undefined when absent, unreadable or expired. */
  async get (key: Uint8Array, options?: AbortOptions): Promise<DhtRecord | undefined> {
    const dsKey = PREFIX + toHex(key)
    const bytes = await this.#datastore.get(dsKey, options)
    if (bytes === undefined) return undefined
    let record: DhtRecord
    try {
      record = decodeRecord(bytes)
    } catch {
      await this.#datastore.delete(dsKey, options)
      return undefined
    }
    const received = Date.parse(record.timeReceived)
    if (!Number.isFinite(received) || Date.now() - received > this.#maxAge) {
      await this.#datastore.delete(dsKey, options)
      return undefined
    }
    return record
  }

  async delete (key: Uint8Array, options?: AbortOptions): Promise<void> {
    await this.#datastore.delete(PREFIX + toHex(key), options)
  }
}
