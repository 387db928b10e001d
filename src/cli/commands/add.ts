/** `ts-libp2p add FILE`: a file into the data dir's block store with kubo's CIDs; prints the root. */
import { parseArgs } from 'node:util'
import { createReadStream, statSync } from 'node:fs'
import type { Command } from '../cli.ts'
import { dataDirFrom, UsageError } from '../args.ts'
import { createProgress } from '../progress.ts'
import { createDatastore } from '../../store/index.ts'
import { DatastoreBlockstore } from '../../exchange/blockstore.ts'
import { addFile } from '../../exchange/unixfs/add.ts'
import { recordRoot } from '../../exchange/roots.ts'
import { interruptOnSignal } from '../interrupt.ts'

export const addCommand: Command = {
  help: `Usage: ts-libp2p add FILE [--cid-version 0|1] [--raw-leaves] [--data-dir DIR]

Chunks FILE into UnixFS blocks (256 KiB chunks, a balanced DAG: the CIDs kubo's \`ipfs add\`
gives with the same settings), stores them in the data dir and prints one JSON line:
{"cid":"Qm...","size":N}. A later \`ts-libp2p start\` with the same data dir serves the blocks over
Bitswap and, with the DHT on, announces the root. Progress: a bar on a terminal's stderr, JSON
lines {"type":"progress",...} on stdout otherwise.

Options:
  --cid-version 0|1  0 (default, kubo's default) or 1 (implies --raw-leaves, as in kubo)
  --raw-leaves       leaves as raw blocks
  --data-dir DIR     where the node keeps its identity, peers and blocks (default ./.data)
  -h, --help         show this help`,
  async run (argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { 'cid-version': { type: 'string' }, 'raw-leaves': { type: 'boolean' }, 'data-dir': { type: 'string' } },
      strict: true,
      allowPositionals: true
    })
    if (positionals.length !== 1) throw new UsageError('add needs exactly one file')
    const version = values['cid-version'] ?? '0'
    if (version !== '0' && version !== '1') throw new UsageError('--cid-version must be 0 or 1')
    const cidVersion = version === '1' ? 1 : 0
    const path = positionals[0]
    let total: number
    try {
      total = statSync(path).size
    } catch (err) {
      throw new UsageError(`cannot read ${path}: ${(err as Error).message}`)
    }
    const datastore = createDatastore(dataDirFrom(values['data-dir']))
    await datastore.open?.()
    const progress = createProgress({ label: 'adding', total, unit: 'bytes', onLine: line => { process.stdout.write(JSON.stringify(line) + '\n') } })
    // Ctrl-C stops between chunks; the blocks written so far stay (unreferenced), no root is recorded
    const interrupt = interruptOnSignal()
    try {
      const result = await addFile(createReadStream(path, { highWaterMark: 1 << 20 }), new DatastoreBlockstore(datastore), {
        cidVersion,
        rawLeaves: values['raw-leaves'] ?? cidVersion === 1,
        onProgress: bytes => { progress.update(bytes) },
        signal: interrupt.signal
      })
      await recordRoot(datastore, result.cid, result.size)
      progress.done()
      process.stdout.write(JSON.stringify({ cid: result.cid.toString(), size: result.size }) + '\n')
      return 0
    } finally {
      interrupt.dispose()
      progress.done()
      await datastore.close?.()
    }
  }
}
