/**
 * The exchange benchmark, in one run (`npm run bench:exchange`, sizes: `--size-mib N`, default 100):
 *
 *  - get: a file of N MiB (CIDv1, raw leaves, kubo's chunking) fetched over Bitswap from 1 and
 *    from 4 providers, each peer its own process on loopback (TCP, Noise, Yamux), ours
 *    (bench/exchange/ts-peer.ts) beside helia (interop/js-peer/helia-peer.ts) and go (boxo, the
 *    go peer's --bitswap): throughput and the fetcher's CPU per GiB (not reported by go).
 *  - add: UnixFS import throughput of the same file held in memory, ours (addFile) beside
 *    helia's importer (ipfs-unixfs-importer with kubo's settings), in this process: both into
 *    blockstore-core's memory store, and ours into its own memory store (which copies blocks).
 *
 * The lead runs it on a quiet machine; `--size-mib 4 --providers 1` is a smoke run, and
 * `--only add` / `--only get` run one half.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { MemoryBlockstore } from 'blockstore-core/memory'
import { addFile } from '../../src/exchange/unixfs/index.ts'
import { memoryBlockstore, type Blockstore } from '../../src/exchange/blockstore.ts'
import { REPO_ROOT, buildGoPeer, spawnPeer, stopAll, type PeerProcess } from '../../test/interop/harness.ts'
import { seededBytes } from '../../test/support/random.ts'

const { values } = parseArgs({ options: { 'size-mib': { type: 'string' }, providers: { type: 'string' }, rounds: { type: 'string' }, only: { type: 'string' } } })
// `--only add` or `--only get` runs one half (a quick check of the other's changes)
const only = values.only
const sizeMiB = Number(values['size-mib'] ?? 100)
const providerCounts = (values.providers ?? '1,4').split(',').map(Number)
const rounds = Number(values.rounds ?? 1)
const SIZE = sizeMiB * 1024 * 1024
const PEERS = { ts: join(REPO_ROOT, 'bench', 'exchange', 'ts-peer.ts'), helia: join(REPO_ROOT, 'interop', 'js-peer', 'helia-peer.ts') }
const dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-bench-exchange-'))
const file = join(dir, 'input.bin')
const bytes = seededBytes(SIZE, 99)
writeFileSync(file, bytes)

const mibps = (b: number, ms: number): number => Math.round(b / 1048576 / (ms / 1000) * 10) / 10
const rows: Array<Record<string, unknown>> = []

type Impl = 'ts' | 'helia' | 'go'

async function spawnImpl (impl: Impl): Promise<PeerProcess> {
  return impl === 'go' ? await spawnPeer('go', ['--bitswap']) : await spawnPeer('js', [], { script: PEERS[impl] })
}

async function getRound (impl: Impl, providers: number): Promise<void> {
  const peers: PeerProcess[] = []
  // the go peer's commands are namespaced (bitswap.add, bitswap.get) and report no CPU time
  const cmd = (name: string): string => impl === 'go' ? `bitswap.${name}` : name
  try {
    for (let i = 0; i < providers; i++) peers.push(await spawnImpl(impl))
    const fetcher = await spawnImpl(impl)
    peers.push(fetcher)
    let cid = ''
    for (const p of peers.slice(0, providers)) cid = String((await p.commandOk({ cmd: cmd('add'), path: file, cidVersion: 1 }, 600_000)).cid)
    for (const p of peers.slice(0, providers)) await fetcher.commandOk({ cmd: 'dial', addr: p.addrs[0] })
    const r = await fetcher.commandOk({ cmd: cmd('get'), cid, path: join(dir, `out-${impl}.bin`) }, 900_000)
    if (r.bytes !== SIZE) throw new Error(`${impl} fetched ${String(r.bytes)} of ${SIZE} bytes`)
    rows.push({ bench: 'get', impl, providers, MiB: sizeMiB, ms: Math.round(r.ms), 'MiB/s': mibps(SIZE, r.ms), 'cpu s/GiB': r.cpuMs === undefined ? 'n/a' : Math.round(r.cpuMs / (SIZE / 1073741824)) / 1000 })
  } finally {
    await Promise.all(peers.map(async p => await p.stop()))
  }
}

/** Times one import of `bytes` and adds its row. */
async function timeAdd (impl: string, store: string, run: () => Promise<unknown>): Promise<void> {
  const t = performance.now()
  const cpu = process.cpuUsage()
  await run()
  const ms = performance.now() - t
  const used = process.cpuUsage(cpu)
  rows.push({ bench: 'add', impl, store, MiB: sizeMiB, ms: Math.round(ms), 'MiB/s': mibps(SIZE, ms), 'cpu s/GiB': Math.round((used.user + used.system) / 1000 / (SIZE / 1073741824)) / 1000 })
}

const heliaImport = async (content: Uint8Array): Promise<void> => {
  for await (const _ of importer([{ content: [content] }], new MemoryBlockstore(), { cidVersion: 1, rawLeaves: true, chunker: fixedSize({ chunkSize: 262_144 }), layout: balanced({ maxChildrenPerNode: 174 }) })) { /* the root */ }
}

async function addRound (): Promise<void> {
  // warm both paths (JIT, hash bindings) on 4 MiB first, so the first measured is not the cold one
  const warm = bytes.subarray(0, Math.min(bytes.length, 4 * 1024 * 1024))
  await addFile(warm, memoryBlockstore(), { cidVersion: 1 })
  await heliaImport(warm)
  // The importers on the same store (blockstore-core's, which keeps the caller's views), then
  // ours on its own memory store, whose datastore copies each block once (so a caller may reuse
  // its buffers): the difference between the two ts rows is that copy, not the importer.
  await timeAdd('helia importer', 'blockstore-core memory', async () => { await heliaImport(bytes) })
  await timeAdd('ts', 'blockstore-core memory', async () => await addFile(bytes, new MemoryBlockstore() as unknown as Blockstore, { cidVersion: 1 }))
  await timeAdd('ts', 'ts memory (copies)', async () => await addFile(bytes, memoryBlockstore(), { cidVersion: 1 }))
}

try {
  if (only !== 'add') await buildGoPeer()
  for (let round = 0; round < rounds; round++) {
    if (only !== 'get') await addRound()
    for (const providers of only === 'add' ? [] : providerCounts) {
      for (const impl of ['ts', 'helia', 'go'] as const) await getRound(impl, providers)
    }
  }
  console.table(rows)
  process.stdout.write(JSON.stringify({ bench: 'exchange', sizeMiB, rows }) + '\n')
} finally {
  await stopAll()
  rmSync(dir, { recursive: true, force: true })
}
