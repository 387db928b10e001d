import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryDatastore, SELF_KEY_DATASTORE_KEY, loadOrCreateSelfKey } from '../../src/store/index.ts'
import { peerIdFromPrivateKey } from '../../src/index.ts'

test('loadOrCreateSelfKey creates an Ed25519 key once and then returns the stored one', async () => {
  const datastore = new MemoryDatastore()
  const first = await loadOrCreateSelfKey(datastore)
  assert.equal(first.type, 'Ed25519')
  assert.deepEqual(await datastore.get(SELF_KEY_DATASTORE_KEY), first.toProtobuf())
  const again = await loadOrCreateSelfKey(datastore)
  assert.ok(peerIdFromPrivateKey(again).equals(peerIdFromPrivateKey(first)))
  assert.notEqual(peerIdFromPrivateKey(await loadOrCreateSelfKey(new MemoryDatastore())).toString(), peerIdFromPrivateKey(first).toString())
})

test('a stored key that does not decode is an InvalidKeyError, not a new identity', async () => {
  const datastore = new MemoryDatastore()
  await datastore.put(SELF_KEY_DATASTORE_KEY, Uint8Array.from([8, 1, 18, 3, 1, 2, 3]))
  await assert.rejects(loadOrCreateSelfKey(datastore), { code: 'ERR_INVALID_KEY' })
  await datastore.put(SELF_KEY_DATASTORE_KEY, new Uint8Array(64 * 1024))
  await assert.rejects(loadOrCreateSelfKey(datastore), { code: 'ERR_INVALID_KEY' })
  assert.equal((await datastore.get(SELF_KEY_DATASTORE_KEY))?.length, 64 * 1024, 'the stored bytes are left alone')
})
