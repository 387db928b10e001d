/** `ts-libp2p get CID --bootstrap MA...`: fetches a UnixFS file over Bitswap, verified, into a file or stdout. */
import { parseArgs } from 'node:util'
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import type { Writable } from 'node:stream'
import type { Command } from '../cli.ts'
import { parseMultiaddr, parsePositiveInt, UsageError } from '../args.ts'
import { createProgress, type Progress } from '../progress.ts'
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
CID and writes the file to FILE, or to stdout (which then carries the file's bytes and nothing
else, as with curl or ipfs cat). Progress is a bar on stderr when stderr is a terminal. When it
is not: with -o, JSON lines {"type":"progress",...} then {"cid":...,"size":N,"file":FILE} on
stdout; without -o, the same JSON lines on stderr, the last {"cid":...,"size":N}. Writing the
file to a terminal shows no bar (it would garble both); --quiet shows no progress at all.

Options:
  --bootstrap MA  a peer to connect to first (repeatable, at least one)
  -o FILE         write the file here (default: stdout)
  --timeout MS    budget of the whole fetch (default 600000)
  --data-dir DIR  keep the fetched blocks in this data dir's store (default: in memory)
  -q, --quiet     no progress (the -o result line is still printed)
  -h, --help      show this help`,
  async run (argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { bootstrap: { type: 'string', multiple: true }, o: { type: 'string', short: 'o' }, timeout: { type: 'string' }, 'data-dir': { type: 'string' }, quiet: { type: 'boolean', short: 'q' } },
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
    const toStdout = values.o === undefined
    const out: Writable = toStdout ? process.stdout : createWriteStream(values.o!)
    // stdout carries the result lines with -o and the file without: then progress takes stderr
    const reportTo = toStdout ? process.stderr : process.stdout
    const report = (line: object): void => { reportTo.write(JSON.stringify(line) + '\n') }
    const quiet = values.quiet === true || (toStdout && process.stdout.isTTY === true)
    const progress: Progress = quiet
      ? { update () {}, setTotal () {}, done () {} }
      : createProgress({ label: 'fetching', unit: 'bytes', onLine: report })
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
      if (!toStdout) {
        out.end()
        await once(out, 'finish')
      }
      progress.done()
      if (!toStdout) report({ cid: cid.toString(), size, file: values.o })
      else if (!quiet && process.stderr.isTTY !== true) report({ cid: cid.toString(), size })
      return 0
    } finally {
      interrupt.dispose()
      progress.done()
      if (!toStdout) out.destroy()
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
