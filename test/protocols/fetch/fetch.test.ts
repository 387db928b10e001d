/**
 * The fetch protocol between two real ts-libp2p nodes: lookups by the longest registered
 * prefix, OK / NOT_FOUND / ERROR, value and key limits, and a remote that never answers.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p } from '../../../src/index.ts'
import { fetch, FetchRemoteError, FETCH_PROTOCOL, decodeFetchRequest, decodeFetchResponse, encodeFetchRequest, encodeFetchResponse, FetchStatus } from '../../../src/protocols/fetch/index.ts'
import { InvalidMessageError, InvalidParametersError, TimeoutError } from '../../../src/util/errors.ts'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array | undefined): string | undefined => b === undefined ? undefined : new TextDecoder().decode(b)

test('messages encode and decode; an unknown status is refused', () => {
  assert.deepEqual(decodeFetchRequest(encodeFetchRequest(enc('/a/b'))), enc('/a/b'))
  assert.deepEqual(decodeFetchResponse(encodeFetchResponse({ status: FetchStatus.OK, data: enc('v') })), { status: 0, data: enc('v') })
  assert.deepEqual(decodeFetchResponse(encodeFetchResponse({ status: FetchStatus.NOT_FOUND, data: new Uint8Array(0) })).status, 1)
  assert.deepEqual(encodeFetchResponse({ status: FetchStatus.OK, data: new Uint8Array(0) }), new Uint8Array(0))
  assert.throws(() => decodeFetchResponse(Uint8Array.of(8, 7)), InvalidMessageError)
  assert.throws(() => decodeFetchRequest(Uint8Array.of(10, 5, 1)), InvalidMessageError)
})

test('lookups by prefix over real connections: OK, NOT_FOUND, ERROR and limits', async (t) => {
  const server = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, services: { fetch: fetch({ maxValueBytes: 1000 }) } })
  const client = await createLibp2p({ services: { fetch: fetch({ timeout: 2000 }) } })
  t.after(async () => { await client.stop(); await server.stop() })
  const seen: string[] = []
  server.services.fetch.registerLookupFunction('/a/', (key, { peer }) => { seen.push(`a ${dec(key)} ${peer.toString() === client.peerId.toString()}`); return enc(`A:${dec(key)}`) })
  server.services.fetch.registerLookupFunction('/a/deep/', (key) => key.length > 10 ? undefined : enc('deep'))
  server.services.fetch.registerLookupFunction('/fail', () => { throw new Error('store unavailable') })
  server.services.fetch.registerLookupFunction('/big', () => new Uint8Array(1001))
  assert.throws(() => { server.services.fetch.registerLookupFunction('/a/', () => undefined) }, InvalidParametersError)
  await client.dial(server.getMultiaddrs()[0])

  assert.equal(dec(await client.services.fetch.fetch(server.peerId, '/a/x')), 'A:/a/x')
  assert.deepEqual(seen, ['a /a/x true'])
  assert.equal(dec(await client.services.fetch.fetch(server.peerId, enc('/a/deep/1'))), 'deep')
  assert.equal(await client.services.fetch.fetch(server.peerId, '/a/deep/longer-key'), undefined)
  assert.equal(await client.services.fetch.fetch(server.peerId, '/nobody/'), undefined)
  await assert.rejects(client.services.fetch.fetch(server.peerId, '/fail'), (err: Error) => err instanceof FetchRemoteError && /store unavailable/.test(err.message))
  await assert.rejects(client.services.fetch.fetch(server.peerId, '/big'), FetchRemoteError)
  await assert.rejects(client.services.fetch.fetch(server.peerId, 'k'.repeat(5000)), InvalidParametersError)

  server.services.fetch.unregisterLookupFunction('/a/')
  assert.equal(await client.services.fetch.fetch(server.peerId, '/a/x'), undefined)
})

test('a remote that never answers costs the client its timeout, no more', async (t) => {
  const server = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] } })
  const client = await createLibp2p({ services: { fetch: fetch({ timeout: 300 }) } })
  t.after(async () => { await client.stop(); await server.stop() })
  await server.handle(FETCH_PROTOCOL, () => { /* read nothing, answer nothing */ })
  const started = performance.now()
  await assert.rejects(client.services.fetch.fetch(server.getMultiaddrs()[0], '/k'), TimeoutError)
  assert.ok(performance.now() - started < 3000)
})
