/** `ts-libp2p id`: prints the peer id of the identity in the data dir (creating it if absent). */
import { parseArgs } from 'node:util'
import type { Command } from '../cli.ts'
import { dataDirFrom, DEFAULT_DATA_DIR } from '../args.ts'
import { loadOrCreateIdentity } from '../identity.ts'
import { peerIdFromPrivateKey } from '../../index.ts'

export const idCommand: Command = {
  help: `Usage: ts-libp2p id [--data-dir DIR]

Prints the peer id of the node whose identity lives in DIR (default ./${DEFAULT_DATA_DIR}),
creating a new Ed25519 identity there if there is none yet.

Options:
  --data-dir DIR  identity and peer store directory (default ./${DEFAULT_DATA_DIR})
  -h, --help      show this help`,
  async run (argv) {
    const { values } = parseArgs({ args: argv, options: { 'data-dir': { type: 'string' } }, strict: true, allowPositionals: false })
    const key = await loadOrCreateIdentity(dataDirFrom(values['data-dir']))
    process.stdout.write(`${peerIdFromPrivateKey(key).toString()}\n`)
    return 0
  }
}
