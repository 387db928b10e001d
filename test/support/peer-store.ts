/**
 * The peer store for tests: the real one (PersistentPeerStore) over an in-memory datastore, so
 * services and the switch are tested against the semantics users get, not a stand-in's.
 */
import { generateKeyPairFromSeed } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { PersistentPeerStore } from '../../src/peer-store/index.ts'
import { MemoryDatastore } from '../../src/store/memory.ts'
import type { PeerId } from '../../src/interface/peer-id.ts'

/** Stands for "this node" when a test does not say which node the store belongs to. */
const NOBODY = peerIdFromPrivateKey(generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(0xee)))

/** A fresh peer store in memory; `self` is left out of `all()`, as a node's own entry is. */
export function memoryPeerStore (self: PeerId = NOBODY): PersistentPeerStore {
  return new PersistentPeerStore({ datastore: new MemoryDatastore(), peerId: self })
}
