/** `ts-libp2p get CID --bootstrap MA...`: fetches a UnixFS file over Bitswap, verified, into a file or stdout. */
import { parseArgs } from 'node:util'
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import type { Writable } from 'node:stream'
import type { Command } from '../cli.ts'
import { parseMultiaddr, parsePositiveInt, UsageError } from '../args.ts'
import { createProgress } from '../progress.ts'
import { createLibp2p } from '../../index.ts'
import { identify } from '../../protocols/identify/index.ts'
import { kadDHT } from '../../dht/index.ts'
import { bitswap } from '../../exchange/bitswap/index.ts'
import { catFile } from '../../exchange/unixfs/cat.ts'
import { decodePBNode } from '../../exchange/unixfs/dag-pb.ts'
import { decodeUnixFSData } from '../../exchange/unixfs/unixfs-data.ts'
import { CODEC_RAW, parseCid, type CID } from '../../exchange/cid.ts'
import { createDatastore } from '../../store/index.ts'
import { withDeadline } from '../../util/deadline.ts'
import { interruptOnSignal } from '../interrupt.ts'

export const getCommand: Command = {
  help: `Usage: ts-libp2p get CID --bootstrap MA... [-o FILE] [--timeout MS] [--data-dir DIR]

Connects to the --bootstrap peers with a throwaway identity, fetches the UnixFS file CID over
Bitswap (from them, or from providers found through the DHT), verifies every block against its
CID and writes the file to FILE (or stdout). With -o it prints one JSON line
{"cid":...,"size":N,"file":FILE}; progress is a bar on a terminal's stderr, or JSON lines
{"type":"progress",...} on stdout when stdout is not a terminal and -o is given.

Options:
  --bootstrap MA  a peer to connect to first (repeatable, at least one)
  -o FILE         write the file here (default: stdout)
  --timeout MS    budget of the whole fetch (default 600000)
  --data-dir DIR  keep the fetched blocks in this data dir's store (default: in memory)
  -h, --help      show this help`,
  async run (argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { bootstrap: { type: 'string', multiple: true }, o: { type: 'string', short: 'o' }, timeout: { type: 'string' }, 'data-dir': { type: 'string' } },
      strict: true,
      allowPositionals: true
    })
    if (positionals.length !== 1) throw new UsageError('get needs exactly one CID')
    let cid: CID
    try {
      cid = parseCid(positionals[0])
    } catch (err) {
      throw new UsageError((err as Error).message)
    }
    const peers = (values.bootstrap ?? []).map(a => parseMultiaddr(a, 'bootstrap address'))
    if (peers.length === 0) throw new UsageError('get needs at least one --bootstrap MA')
    const timeout = parsePositiveInt(values.timeout, 'timeout', 600_000)
    const datastore = values['data-dir'] !== undefined ? createDatastore(values['data-dir']) : undefined
    await datastore?.open?.()
    const node = await createLibp2p({
      addresses: { listen: [] },
      ...(datastore !== undefined ? { datastore } : {}),
      services: { identify: identify(), bitswap: bitswap(), dht: kadDHT({ mode: 'client', initialRefresh: false }) }
    })
    const out: Writable = values.o !== undefined ? createWriteStream(values.o) : process.stdout
    const progress = createProgress({
      label: 'fetching',
      unit: 'bytes',
      onLine: values.o !== undefined ? line => { process.stdout.write(JSON.stringify(line) + '\n') } : undefined
    })
    // Ctrl-C aborts the fetch: the node stops and the command exits 130
    const interrupt = interruptOnSignal()
    try {
      const size = await withDeadline(timeout, interrupt.signal, `fetching ${cid.toString()} timed out after ${timeout} ms`, async signal => {
        const dials = await Promise.allSettled(peers.map(async addr => await node.dial(addr, { signal })))
        if (dials.every(d => d.status === 'rejected')) throw new Error(`no bootstrap peer reachable: ${(dials[0] as PromiseRejectedResult).reason?.message as string}`)
        const session = node.services.bitswap.createSession()
        // the root tells the file's size, for the bar
        progress.setTotal(fileSizeOf(cid, await session.get(cid, { signal })))
        let written = 0
        for await (const part of catFile(cid, session, { signal })) {
          written += part.length
          progress.update(written)
          if (!out.write(part)) await once(out, 'drain', { signal })
        }
        return written
      })
      if (values.o !== undefined) {
        out.end()
        await once(out, 'finish')
      }
      progress.done()
      if (values.o !== undefined) process.stdout.write(JSON.stringify({ cid: cid.toString(), size, file: values.o }) + '\n')
      return 0
    } finally {
      interrupt.dispose()
      progress.done()
      if (values.o !== undefined) out.destroy()
      await node.stop()
      await datastore?.close?.()
    }
  }
}

function fileSizeOf (cid: CID, root: Uint8Array): number {
  if (cid.code === CODEC_RAW) return root.length
  const node = decodePBNode(root)
  if (node.data === undefined) return 0
  const data = decodeUnixFSData(node.data)
  return data.fileSize ?? data.blockSizes.reduce((a, b) => a + b, data.data?.length ?? 0)
}
