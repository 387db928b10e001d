/**
 * A node's identity kept in its datastore: `loadOrCreateSelfKey(datastore)` returns the private
 * key stored there, or creates an Ed25519 key and stores it first. With the embedded store
 * (`createDatastore(name)`: IndexedDB in a page, SQLite in Node) a page keeps its peer id across
 * reloads, as the CLI does with its data directory (cli/identity.ts).
 *
 * ```ts
 * const datastore = createDatastore('my-app')
 * const node = await createLibp2p({ datastore, privateKey: await loadOrCreateSelfKey(datastore) })
 * // createDatastore and loadOrCreateSelfKey come from 'ts-libp2p/datastore'
 * ```
 *
 * A stored key that does not decode is an error, never a reason to mint a new identity silently.
 */
import type { AbortOptions } from '../interface/common.ts'
import type { Datastore } from '../interface/datastore.ts'
import type { PrivateKey } from '../interface/keys.ts'
import { generateKeyPair, privateKeyFromProtobuf } from '../crypto/index.ts'
import { InvalidKeyError } from '../util/errors.ts'

/** Where the key lives: a PrivateKey protobuf. */
export const SELF_KEY_DATASTORE_KEY = '/local/self/private-key'
/** A PrivateKey protobuf is a few hundred bytes even for RSA-4096; anything huge is not ours. */
const MAX_SELF_KEY_SIZE = 16 * 1024

export async function loadOrCreateSelfKey (datastore: Datastore, options?: AbortOptions): Promise<PrivateKey> {
  const stored = await datastore.get(SELF_KEY_DATASTORE_KEY, options)
  if (stored !== undefined) {
    if (stored.length > MAX_SELF_KEY_SIZE) throw new InvalidKeyError(`the datastore's ${SELF_KEY_DATASTORE_KEY} is too large (${stored.length} bytes) to be a private key`)
    try {
      return privateKeyFromProtobuf(stored)
    } catch (err) {
      throw new InvalidKeyError(`the datastore's ${SELF_KEY_DATASTORE_KEY} does not hold a valid private key: ${(err as Error).message}`, { cause: err })
    }
  }
  const key = await generateKeyPair('Ed25519')
  await datastore.put(SELF_KEY_DATASTORE_KEY, key.toProtobuf(), options)
  return key
}
