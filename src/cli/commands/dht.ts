/**
 * `ts-libp2p dht <query> ARG --bootstrap MA...`: a short-lived node joins the DHT through the
 * bootstrap peers, runs one query, prints JSON lines on stdout and exits 0; on failure it
 * exits 1 with a one-line reason on stderr (2 for usage errors).
 *
 * Also the DHT pieces of `start --dht server|client [--provide CID]...`.
 */
import { parseArgs } from 'node:util'
import type { Multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import type { Command } from '../cli.ts'
import { parseMultiaddr, parsePositiveInt, UsageError } from '../args.ts'
import { createLibp2p, peerIdFromString, type PeerInfo } from '../../index.ts'
import { identify } from '../../protocols/identify/index.ts'
import { ping } from '../../protocols/ping/index.ts'
import { kadDHT, type KadDHT } from '../../dht/index.ts'
import { MemoryDatastore } from '../../store/index.ts'
import { utf8Encode } from '../../util/bytes.ts'
import { Deadline } from '../../util/deadline.ts'
import type { DhtEvent } from '../../dht/events.ts'
import { createProgress, type Progress } from '../progress.ts'
import { INTERRUPTED_EXIT_CODE, interruptOnSignal } from '../interrupt.ts'

const SUBCOMMANDS = ['find-peer', 'closest-peers', 'provide', 'find-providers', 'put', 'get'] as const
type Subcommand = typeof SUBCOMMANDS[number]

export const dhtCommand: Command = {
  help: `Usage: ts-libp2p dht <query> ARG... --bootstrap MA [--bootstrap MA]... [--timeout MS]

Joins the Kademlia DHT (/ipfs/kad/1.0.0) with a throwaway identity through the bootstrap peers,
runs one query and prints JSON lines:

  dht find-peer PEER           {"peerId":"...","addrs":["..."]}
  dht closest-peers KEY        one {"peerId","addrs"} line per peer (KEY: a peer id or text)
  dht find-providers CID       one {"peerId","addrs"} line per provider
  dht provide CID              {"cid":"...","accepted":N}   (listens on --listen while it runs)
  dht get KEY                  {"key":"...","value":"<base64>"}
  dht put KEY VALUE            {"key":"...","accepted":N}   (VALUE in base64)

KEY is text; /pk/<peer id> stands for "/pk/" + that peer id's multihash bytes. Exits 0 on
success, 1 with a one-line reason on stderr when the query fails or finds nothing, 130 on Ctrl-C.

Progress goes to stderr, stdout keeps only the results: on a terminal a spinner with the
requests sent, answered and failed; otherwise a JSON line {"type":"progress","label":"dht get",
"done":N,"detail":"..."} at most once a second and one at the end (--quiet: none).

Options:
  --bootstrap MA   DHT server to join through (ends in /p2p/<id>), repeatable, required
  --listen MA      listen address while running (default /ip4/0.0.0.0/tcp/0 for provide, none otherwise)
  --count N        find-providers: stop after N providers (default 20)
  --timeout MS     budget for the whole command (default 60000)
  -q, --quiet      no progress on stderr
  -h, --help       show this help`,
  async run (argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        bootstrap: { type: 'string', multiple: true },
        listen: { type: 'string', multiple: true },
        count: { type: 'string' },
        timeout: { type: 'string' },
        quiet: { type: 'boolean', short: 'q', default: false }
      },
      strict: true,
      allowPositionals: true
    })
    const [sub, ...args] = positionals
    if (!SUBCOMMANDS.includes(sub as Subcommand)) throw new UsageError(`dht needs a query: ${SUBCOMMANDS.join(', ')}`)
    const wanted = sub === 'put' ? 2 : 1
    if (args.length !== wanted) throw new UsageError(`dht ${sub} needs exactly ${wanted} argument${wanted > 1 ? 's' : ''}`)
    const bootstrapList = (values.bootstrap ?? []).map(a => parseMultiaddr(a, 'bootstrap address'))
    if (bootstrapList.length === 0) throw new UsageError('dht needs at least one --bootstrap MA')
    const timeout = parsePositiveInt(values.timeout, 'timeout', 60_000)
    const count = parsePositiveInt(values.count, 'count', 20)
    const listen = (values.listen ?? (sub === 'provide' ? ['/ip4/0.0.0.0/tcp/0'] : [])).map(a => parseMultiaddr(a, 'listen address'))
    // parse arguments before any network work, so usage errors exit 2 at once
    const query = prepare(sub as Subcommand, args)

    // Ctrl-C aborts the query: the node stops and the command exits 130
    const interrupt = interruptOnSignal()
    const deadline = new Deadline(timeout, interrupt.signal, `the DHT query timed out after ${timeout} ms`)
    const signal = deadline.signal
    const progress = values.quiet === true
      ? undefined
      : createProgress({ label: `dht ${sub}`, onLine: line => { process.stderr.write(JSON.stringify(line) + '\n') } })
    const tally = new QueryTally(progress)
    // a result on the terminal that shows the spinner starts on a clean line; the spinner redraws after it
    const print = (obj: unknown): void => {
      if (process.stdout.isTTY === true) progress?.clearLine?.()
      line(obj)
      tally.redraw()
    }
    const node = await createLibp2p({
      datastore: new MemoryDatastore(),
      addresses: { listen: listen.map(String) },
      services: { identify: identify(), ping: ping(), dht: kadDHT({ mode: 'client', initialRefresh: false, refreshInterval: 0 }) },
      start: false
    })
    try {
      await node.start()
      progress?.update(0, 'joining')
      await joinDht(node.services.dht, (target) => node.dial(target, { signal }), bootstrapList, signal)
      await query(node.services.dht, { signal, count, onProgress: tally.onProgress, print })
      progress?.done()
      return 0
    } catch (err) {
      progress?.done()
      if (interrupt.signal.aborted) {
        process.stderr.write(`ts-libp2p: dht ${sub} interrupted\n`)
        return INTERRUPTED_EXIT_CODE
      }
      throw err
    } finally {
      interrupt.dispose()
      deadline.clear()
      await node.stop()
    }
  }
}

type Query = (dht: KadDHT, options: { signal: AbortSignal, count: number, onProgress: (event: DhtEvent) => void, print: (obj: unknown) => void }) => Promise<void>

/** Counts a query's requests for the progress line: sent, answered, failed, deepest hop. */
class QueryTally {
  readonly #progress: Progress | undefined
  #sent = 0
  #answered = 0
  #failed = 0
  #hop = 0

  constructor (progress: Progress | undefined) {
    this.#progress = progress
  }

  readonly onProgress = (event: DhtEvent): void => {
    if (this.#progress === undefined) return
    if (event.type === 'send-query') {
      this.#sent++
      if (event.hop > this.#hop) this.#hop = event.hop
    } else if (event.type === 'peer-response') {
      this.#answered++
    } else if (event.type === 'query-error') {
      this.#failed++
    } else {
      return
    }
    this.redraw()
  }

  redraw (): void {
    this.#progress?.update(this.#sent, `sent, ${this.#answered} answered, ${this.#failed} failed, hop ${this.#hop}`)
  }
}

function line (obj: unknown): void {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

function peerLine (peer: PeerInfo): object {
  return { peerId: peer.id.toString(), addrs: peer.multiaddrs.map(String) }
}

function parsePeer (text: string): ReturnType<typeof peerIdFromString> {
  try {
    return peerIdFromString(text)
  } catch (err) {
    throw new UsageError(`invalid peer id '${text}': ${(err as Error).message}`)
  }
}

export function parseCid (text: string): CID {
  try {
    return CID.parse(text)
  } catch (err) {
    throw new UsageError(`invalid CID '${text}': ${(err as Error).message}`)
  }
}

/** Text key to bytes; `/pk/<peer id>` becomes "/pk/" + the id's multihash. */
function parseKey (text: string): Uint8Array {
  if (text.length === 0) throw new UsageError('the key must not be empty')
  if (text.startsWith('/pk/')) {
    const id = parsePeer(text.slice(4))
    const out = new Uint8Array(4 + id.bytes.length)
    out.set(utf8Encode('/pk/'), 0)
    out.set(id.bytes, 4)
    return out
  }
  return utf8Encode(text)
}

function parseBase64 (text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new UsageError('VALUE must be base64')
  return Uint8Array.from(Buffer.from(text, 'base64'))
}

function prepare (sub: Subcommand, args: string[]): Query {
  switch (sub) {
    case 'find-peer': {
      const peer = parsePeer(args[0])
      return async (dht, { signal, onProgress, print }) => { print(peerLine(await dht.findPeer(peer, { signal, onProgress, useLocal: false }))) }
    }
    case 'closest-peers': {
      let key: Uint8Array
      try {
        key = peerIdFromString(args[0]).bytes
      } catch {
        key = utf8Encode(args[0])
      }
      return async (dht, { signal, onProgress, print }) => {
        let found = 0
        for await (const event of dht.getClosestPeers(key, { signal, onProgress })) {
          if (event.type !== 'final-peer') continue
          found++
          print(peerLine(event.peer))
        }
        if (found === 0) throw new Error('no DHT peers answered')
      }
    }
    case 'find-providers': {
      const cid = parseCid(args[0])
      return async (dht, { signal, count, onProgress, print }) => {
        let found = 0
        for await (const provider of dht.findProviders(cid, { signal, count, onProgress })) {
          print(peerLine(provider))
          found++
        }
        if (found === 0) throw new Error(`no providers found for ${args[0]}`)
      }
    }
    case 'provide': {
      const cid = parseCid(args[0])
      return async (dht, { signal, onProgress, print }) => { print({ cid: args[0], accepted: await dht.provide(cid, { signal, onProgress }) }) }
    }
    case 'get': {
      const key = parseKey(args[0])
      return async (dht, { signal, onProgress, print }) => { print({ key: args[0], value: Buffer.from(await dht.get(key, { signal, onProgress })).toString('base64') }) }
    }
    case 'put': {
      const key = parseKey(args[0])
      const value = parseBase64(args[1])
      return async (dht, { signal, onProgress, print }) => { print({ key: args[0], accepted: await dht.put(key, value, { signal, onProgress }) }) }
    }
  }
}

/**
 * Dials the bootstrap peers (at least one must answer), waits until identify put a DHT server
 * in the routing table, then refreshes the table.
 */
export async function joinDht (dht: KadDHT, dial: (target: Multiaddr) => Promise<unknown>, bootstrap: Multiaddr[], signal: AbortSignal): Promise<void> {
  const results = await Promise.allSettled(bootstrap.map(async (addr) => { await dial(addr) }))
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed.length === results.length) throw new Error(`no bootstrap peer could be reached: ${(failed[0].reason as Error).message}`)
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (dht.routingTable.size > 0) { cleanup(); resolve(); return }
      if (signal.aborted) { cleanup(); reject(new Error('no bootstrap peer speaks /ipfs/kad/1.0.0')) }
    }
    const timer = setInterval(check, 20)
    const cleanup = (): void => { clearInterval(timer) }
    check()
  })
  await dht.refreshRoutingTable({ signal })
}
