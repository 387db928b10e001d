/**
 * The IndexedDB datastore in real Chromium: the Datastore conformance suite runs in Node against
 * a proxy whose every call is carried out by the page on a store that `createDatastore(name)`
 * opened there (so the browser's `#store-disk` choice is what is tested); then a page whose node
 * keeps its identity and peer store in IndexedDB is reloaded and still has both.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { AbortOptions } from '../../src/interface/common.ts'
import type { Datastore, DatastoreQuery, Pair } from '../../src/interface/datastore.ts'
import { generateKeyPair, peerIdFromPrivateKey } from '../../src/index.ts'
import { chromiumSkip, withBrowser, withBrowserPage } from '../support/browser/index.ts'
import type { TestPage } from '../support/browser/index.ts'
import { datastoreSuite } from './datastore-suite.ts'
import type { Outcome, Wire } from './fixtures/indexeddb-page.ts'

const PAGE = new URL('./fixtures/indexeddb-page.ts', import.meta.url)

class PageError extends Error {
  readonly code?: string
  constructor (error: { name: string, code?: string, message: string }) {
    super(error.message)
    this.name = error.name
    this.code = error.code
  }
}

const toWire = (v: unknown): Wire => v instanceof Uint8Array ? { bytes: [...v] } : { raw: v }
function unwrap (outcome: Outcome): unknown {
  if ('error' in outcome) throw new PageError(outcome.error)
  const w = outcome.ok
  return w === null ? undefined : 'bytes' in w ? Uint8Array.from(w.bytes) : w.raw
}

/** A Datastore whose every operation runs on an IndexedDB store inside the page. */
class PageDatastore implements Datastore {
  readonly #page: TestPage
  readonly #id: number
  constructor (page: TestPage, id: number) {
    this.#page = page
    this.#id = id
  }

  async #call (method: string, args: unknown[], options?: AbortOptions): Promise<unknown> {
    return unwrap(await this.#page.call<Outcome>('callStore', this.#id, method, args.map(toWire), options?.signal?.aborted === true))
  }

  async get (key: string, options?: AbortOptions): Promise<Uint8Array | undefined> { return await this.#call('get', [key], options) as Uint8Array | undefined }
  async has (key: string, options?: AbortOptions): Promise<boolean> { return await this.#call('has', [key], options) as boolean }
  async put (key: string, value: Uint8Array, options?: AbortOptions): Promise<void> { await this.#call('put', [key, value], options) }
  async delete (key: string, options?: AbortOptions): Promise<void> { await this.#call('delete', [key], options) }
  async batch (ops: Parameters<Datastore['batch']>[0], options?: AbortOptions): Promise<void> {
    await this.#call('batch', [ops.map(op => op.type === 'put' ? { type: op.type, key: op.key, value: toWire(op.value) } : op)], options)
  }

  async open (): Promise<void> { await this.#call('open', []) }
  async close (): Promise<void> { await this.#call('close', []) }
  async * query (query: DatastoreQuery = {}): AsyncIterable<Pair> {
    const queryId = await this.#page.call<number>('startQuery', this.#id, query.prefix, query.limit, query.signal?.aborted === true)
    for (;;) {
      const step = await this.#page.call<Outcome | { done: true }>('nextOfQuery', queryId)
      if ('done' in step) return
      const { key, bytes } = unwrap(step) as { key: string, bytes: number[] }
      yield { key, value: Uint8Array.from(bytes) }
    }
  }
}

describe('IndexedDB datastore in Chromium', { skip: chromiumSkip() }, () => {
  let page: TestPage
  let release: () => void = () => {}
  let session: Promise<void> | undefined
  before(async () => {
    await new Promise<void>((resolve, reject) => {
      session = withBrowserPage(PAGE, async p => {
        page = p
        resolve()
        await new Promise<void>(done => { release = done })
      }).catch(reject)
    })
  })
  after(async () => {
    release()
    await session
  })

  datastoreSuite('IndexedDB (Chromium)', async () => new PageDatastore(page, await page.call<number>('createStore')))

  it('lets another tab upgrade the schema, then fails with typed errors rather than raw DOMExceptions', async () => {
    const { upgraded, codes } = await page.call<{ upgraded: boolean, codes: string[] }>('newerSchemaElsewhere')
    assert.equal(upgraded, true, 'the other tab was not blocked by our open connection')
    assert.deepEqual(codes, ['ERR_INDEXEDDB', 'ERR_INDEXEDDB'])
  })
})

describe('a page keeps its identity and peer store across reloads', { skip: chromiumSkip() }, () => {
  it('reloads with the same peer id and the peers it had stored; a fresh profile gets another id', async () => {
    const remembered = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    await withBrowser(PAGE, async session => {
      const page = await session.openPage()
      const first = await page.call<{ peerId: string, known: Array<{ id: string, addrs: string[] }> }>('startPersistentNode', remembered)
      assert.match(first.peerId, /^12D3KooW/)
      assert.ok(!first.known.some(p => p.id === remembered))
      await page.reload()
      const second = await page.call<typeof first>('startPersistentNode', remembered)
      assert.equal(second.peerId, first.peerId, 'the identity survived the reload')
      const peer = second.known.find(p => p.id === remembered)
      assert.ok(peer !== undefined, 'the peer store survived the reload')
      assert.deepEqual(peer.addrs, ['/dns4/example.invalid/tcp/443/wss'])
      // another browser profile (its own IndexedDB) is another node: the id came from storage
      const other = await session.openPage()
      const third = await other.call<typeof first>('startPersistentNode', remembered)
      assert.notEqual(third.peerId, first.peerId)
    })
  })
})
