/**
 * `ts-libp2p peers`: lists the peers recorded in a data dir's peer store, one JSON line each
 * (`{"peerId","addrs","protocols","agentVersion"}`). Reads the store directly, so it works
 * while no node runs (and, SQLite permitting, while one does).
 */
import { parseArgs } from 'node:util'
import type { Command } from '../cli.ts'
import { dataDirFrom, DEFAULT_DATA_DIR } from '../args.ts'
import { loadOrCreateIdentity } from '../identity.ts'
import { peerIdFromPrivateKey } from '../../index.ts'
import { PersistentPeerStore } from '../../peer-store/index.ts'
import { createDatastore } from '../../store/index.ts'
import { utf8Decode } from '../../util/bytes.ts'

export const peersCommand: Command = {
  help: `Usage: ts-libp2p peers [--data-dir DIR]

Prints one line of JSON per peer the node with data directory DIR (default ./${DEFAULT_DATA_DIR})
has learned about: {"peerId","addrs","protocols","agentVersion"}.

Options:
  --data-dir DIR  identity and peer store directory (default ./${DEFAULT_DATA_DIR})
  -h, --help      show this help`,
  async run (argv) {
    const { values } = parseArgs({ args: argv, options: { 'data-dir': { type: 'string' } }, strict: true, allowPositionals: false })
    const dataDir = dataDirFrom(values['data-dir'])
    const peerId = peerIdFromPrivateKey(await loadOrCreateIdentity(dataDir))
    const datastore = createDatastore(dataDir)
    await datastore.open?.()
    try {
      const peerStore = new PersistentPeerStore({ datastore, peerId })
      for (const peer of await peerStore.all()) {
        const agent = peer.metadata.get('AgentVersion')
        let agentVersion: string | undefined
        try { agentVersion = agent !== undefined ? utf8Decode(agent) : undefined } catch {}
        process.stdout.write(JSON.stringify({
          peerId: peer.id.toString(),
          addrs: peer.addresses.map(a => a.multiaddr.toString()),
          protocols: peer.protocols,
          agentVersion
        }) + '\n')
      }
    } finally {
      await datastore.close?.()
    }
    return 0
  }
}
