/**
 * The process the crash-safety test kills with SIGKILL at random moments. Modes:
 * - `identity DIR`: creates identities in DIR/id-0, DIR/id-1, ... for ever, printing
 *   `identity <i> <peerId>` once each is on disk;
 * - `peers DIR`: opens the node's datastore in DIR and writes peers to the peer store for
 *   ever, printing `stored <i>` once each write resolved (acknowledged).
 */
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { loadOrCreateIdentity } from '../../src/cli/identity.ts'
import { generateKeyPairFromSeed } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { PersistentPeerStore } from '../../src/peer-store/persistent-peer-store.ts'
import { SqliteDatastore } from '../../src/store/sqlite.node.ts'

/** The i-th peer the `peers` mode writes (the test recomputes it to check what survived). */
export function peerOf (i: number): ReturnType<typeof peerIdFromPrivateKey> {
  const seed = new Uint8Array(32)
  new DataView(seed.buffer).setUint32(0, i + 1)
  return peerIdFromPrivateKey(generateKeyPairFromSeed('Ed25519', seed))
}

const [mode, dir] = process.argv.slice(2)
if (mode === 'identity') {
  for (let i = 0; ; i++) {
    const key = await loadOrCreateIdentity(join(dir, `id-${i}`))
    process.stdout.write(`identity ${i} ${peerIdFromPrivateKey(key).toString()}\n`)
  }
} else if (mode === 'peers') {
  const datastore = new SqliteDatastore(dir)
  await datastore.open()
  const store = new PersistentPeerStore({ datastore, peerId: peerOf(1_000_000) })
  for (let i = 0; ; i++) {
    await store.merge(peerOf(i), { multiaddrs: [multiaddr(`/ip4/10.0.${(i >> 8) & 255}.${i & 255}/tcp/4001`)], tags: { seen: { value: i % 100 } }, metadata: { n: new TextEncoder().encode(String(i)) } })
    process.stdout.write(`stored ${i}\n`)
  }
}
