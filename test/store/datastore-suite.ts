/**
 * The Datastore conformance suite: every backend runs it (memory, SQLite, later browser ones).
 * `create()` returns a fresh, empty store.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Datastore, Pair } from '../../src/interface/datastore.ts'

async function collect (it: AsyncIterable<Pair>): Promise<Pair[]> {
  const out: Pair[] = []
  for await (const p of it) out.push(p)
  return out
}

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b)

export function datastoreSuite (name: string, create: () => Datastore | Promise<Datastore>): void {
  describe(`${name} datastore conformance`, () => {
    test('put, get, has, delete', async () => {
      const ds = await create()
      assert.equal(await ds.get('/a'), undefined)
      assert.equal(await ds.has('/a'), false)
      await ds.put('/a', bytes(1, 2, 3))
      assert.deepEqual(await ds.get('/a'), bytes(1, 2, 3))
      assert.equal(await ds.has('/a'), true)
      await ds.put('/a', bytes(4))
      assert.deepEqual(await ds.get('/a'), bytes(4))
      await ds.delete('/a')
      assert.equal(await ds.get('/a'), undefined)
      assert.equal(await ds.has('/a'), false)
      // Deleting a missing key is fine.
      await ds.delete('/a')
      await ds.put('/empty', new Uint8Array(0))
      assert.deepEqual(await ds.get('/empty'), new Uint8Array(0))
      await ds.close?.()
    })

    test('a stored value does not change when the caller reuses its buffer', async () => {
      const ds = await create()
      const buf = bytes(1, 2, 3)
      await ds.put('/k', buf)
      buf[0] = 9
      assert.deepEqual(await ds.get('/k'), bytes(1, 2, 3))
      await ds.close?.()
    })

    test('query returns keys in code point order, filtered by prefix, with a limit', async () => {
      const ds = await create()
      const keys = ['/peers/b', '/peers/a', '/peersX', '/peers/', '/other/1', '/peers/\u{1F600}', '/peers/\uFFFD', '/peers/c/d', '/peers']
      for (const [i, k] of keys.entries()) await ds.put(k, bytes(i))
      const all = await collect(ds.query())
      assert.deepEqual(all.map(p => p.key), ['/other/1', '/peers', '/peers/', '/peers/a', '/peers/b', '/peers/c/d', '/peers/\uFFFD', '/peers/\u{1F600}', '/peersX'])
      const peers = await collect(ds.query({ prefix: '/peers/' }))
      assert.deepEqual(peers.map(p => p.key), ['/peers/', '/peers/a', '/peers/b', '/peers/c/d', '/peers/\uFFFD', '/peers/\u{1F600}'])
      assert.deepEqual(peers[1].value, bytes(1))
      const limited = await collect(ds.query({ prefix: '/peers/', limit: 2 }))
      assert.deepEqual(limited.map(p => p.key), ['/peers/', '/peers/a'])
      assert.deepEqual(await collect(ds.query({ prefix: '/nothing' })), [])
      assert.deepEqual((await collect(ds.query({ prefix: '/peers/\u{1F600}' }))).map(p => p.key), ['/peers/\u{1F600}'])
      assert.deepEqual((await collect(ds.query({ prefix: '/peers/\u{10FFFF}' }))).map(p => p.key), [])
      await ds.close?.()
    })

    test('query pages through many keys without skipping or repeating', async () => {
      const ds = await create()
      const ops = []
      for (let i = 0; i < 1000; i++) ops.push({ type: 'put' as const, key: `/many/${String(i).padStart(4, '0')}`, value: bytes(i & 0xff) })
      await ds.batch(ops)
      await ds.put('/manz', bytes(0))
      const got = await collect(ds.query({ prefix: '/many/' }))
      assert.equal(got.length, 1000)
      assert.deepEqual(got.map(p => p.key), ops.map(o => o.key))
      assert.equal((await collect(ds.query({ prefix: '/many/', limit: 300 }))).length, 300)
      await ds.close?.()
    })

    test('deleting during a query neither breaks nor repeats the walk', async () => {
      const ds = await create()
      for (let i = 0; i < 600; i++) await ds.put(`/q/${String(i).padStart(3, '0')}`, bytes(1))
      const seen = new Set<string>()
      for await (const { key } of ds.query({ prefix: '/q/' })) {
        assert.ok(!seen.has(key))
        seen.add(key)
        await ds.delete(key)
      }
      assert.equal(seen.size, 600)
      assert.deepEqual(await collect(ds.query({ prefix: '/q/' })), [])
      await ds.close?.()
    })

    test('batch applies puts and deletes together; an invalid batch applies nothing', async () => {
      const ds = await create()
      await ds.put('/x', bytes(1))
      await ds.batch([{ type: 'put', key: '/y', value: bytes(2) }, { type: 'delete', key: '/x' }, { type: 'put', key: '/z', value: bytes(3) }])
      assert.deepEqual((await collect(ds.query())).map(p => p.key), ['/y', '/z'])
      await assert.rejects(ds.batch([{ type: 'put', key: '/w', value: bytes(4) }, { type: 'put', key: '/bad', value: 'not bytes' as unknown as Uint8Array }]), { code: 'ERR_INVALID_PARAMETERS' })
      assert.equal(await ds.has('/w'), false)
      await ds.close?.()
    })

    test('invalid keys and values are refused with a typed error', async () => {
      const ds = await create()
      await assert.rejects(ds.put('/\uD800', bytes(1)), { code: 'ERR_INVALID_PARAMETERS' })
      await assert.rejects(ds.put('/' + 'k'.repeat(5000), bytes(1)), { code: 'ERR_INVALID_PARAMETERS' })
      await assert.rejects(ds.put(42 as unknown as string, bytes(1)), { code: 'ERR_INVALID_PARAMETERS' })
      await assert.rejects(ds.put('/k', [1, 2] as unknown as Uint8Array), { code: 'ERR_INVALID_PARAMETERS' })
      await assert.rejects(ds.get('/\uDC00'), { code: 'ERR_INVALID_PARAMETERS' })
      await ds.close?.()
    })

    test('an aborted signal stops the operation', async () => {
      const ds = await create()
      await ds.put('/a', bytes(1))
      await assert.rejects(ds.get('/a', { signal: AbortSignal.abort() }))
      await assert.rejects(collect(ds.query({ signal: AbortSignal.abort() })))
      await ds.close?.()
    })

    test('operations after close fail with a typed error', async () => {
      const ds = await create()
      await ds.close?.()
      if (ds.close === undefined) return
      await assert.rejects(ds.get('/a'), { code: 'ERR_NOT_STARTED' })
      await assert.rejects(ds.put('/a', bytes(1)), { code: 'ERR_NOT_STARTED' })
      await assert.rejects(collect(ds.query()), { code: 'ERR_NOT_STARTED' })
    })
  })
}
