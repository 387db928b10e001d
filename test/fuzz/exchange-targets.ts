/**
 * Fuzz targets of the exchange layer: Bitswap messages (with the CIDs, prefixes and blocks inside
 * them turned into CIDs as the service does), dag-pb nodes, UnixFS Data messages and Bitswap
 * CID prefixes. Joined into targets.ts's list and seeds.
 */
import { decodeMessage, encodeMessage, WANT_HAVE, PRESENCE_DONT_HAVE } from '../../src/exchange/bitswap/message.ts'
import { decodePBNode, encodePBNode } from '../../src/exchange/unixfs/dag-pb.ts'
import { decodeUnixFSData, encodeUnixFSFile } from '../../src/exchange/unixfs/unixfs-data.ts'
import { cidFromPrefix, cidOf, cidPrefix, decodeCid, CODEC_RAW, CODEC_DAG_PB } from '../../src/exchange/cid.ts'
import type { FuzzTarget } from './target.ts'

function bitswapMessage (input: Uint8Array): void {
  const msg = decodeMessage(input)
  for (const e of msg.wantlist?.entries ?? []) decodeCid(e.cid)
  for (const p of msg.presences) decodeCid(p.cid)
  for (const b of msg.blocks) if (b.prefix !== undefined) cidFromPrefix(b.prefix, b.data)
}

function cidPrefixTarget (input: Uint8Array): void {
  // first byte: how many of the following bytes are the prefix; the rest is the block
  if (input.length === 0) return
  const n = Math.min(input[0], input.length - 1)
  cidFromPrefix(input.subarray(1, 1 + n), input.subarray(1 + n))
}

export const exchangeTargets: FuzzTarget[] = [
  { name: 'bitswap-message', run: bitswapMessage },
  { name: 'dag-pb-node', run: (b) => { decodePBNode(b) } },
  { name: 'unixfs-data', run: (b) => { decodeUnixFSData(b) } },
  { name: 'bitswap-cid-prefix', run: cidPrefixTarget }
]

export function exchangeSeeds (): Record<string, Uint8Array[]> {
  const block = new TextEncoder().encode('hello bitswap')
  const raw = cidOf(block, CODEC_RAW, 1)
  const leaf = encodePBNode({ links: [], data: encodeUnixFSFile(block, block.length, []) })
  const leafCid = cidOf(leaf, CODEC_DAG_PB, 0)
  const parent = encodePBNode({ links: [{ hash: leafCid, name: '', tsize: leaf.length }, { hash: raw, name: '', tsize: block.length }], data: encodeUnixFSFile(undefined, 2 * block.length, [block.length, block.length]) })
  const prefix = cidPrefix(raw)
  return {
    'bitswap-message': [
      encodeMessage({ wantlist: { entries: [{ cid: raw.bytes, priority: 1, cancel: false, wantType: WANT_HAVE, sendDontHave: true }], full: true }, blocks: [], presences: [], pendingBytes: 0 }, '1.2.0'),
      encodeMessage({ blocks: [{ prefix, data: block }], presences: [{ cid: leafCid.bytes, type: PRESENCE_DONT_HAVE }], pendingBytes: 1000 }, '1.2.0'),
      encodeMessage({ wantlist: { entries: [{ cid: leafCid.bytes, priority: 5, cancel: true, wantType: 0, sendDontHave: false }], full: false }, blocks: [{ data: leaf }], presences: [], pendingBytes: 0 }, '1.0.0')
    ],
    'dag-pb-node': [leaf, parent],
    'unixfs-data': [encodeUnixFSFile(block, block.length, []), encodeUnixFSFile(undefined, 300, [100, 200]), new Uint8Array([0x08, 0x02, 0x22, 0x02, 0x64, 0x64])],
    'bitswap-cid-prefix': [new Uint8Array([prefix.length, ...prefix, ...block]), new Uint8Array([4, 0, 0x70, 0x12, 0x20, ...leaf])]
  }
}
