/**
 * The roots of files added to a node's data dir (`ts-libp2p add`), kept in its datastore so a
 * later `ts-libp2p start` announces them on the DHT and serves them. One key per root:
 * `/unixfs/roots/<cid>`, the value the file's size as a decimal string.
 */
import type { Datastore } from '../interface/datastore.ts'
import { utf8Decode, utf8Encode } from '../util/bytes.ts'
import { parseCid, type CID } from './cid.ts'

const PREFIX = '/unixfs/roots/'

export async function recordRoot (datastore: Datastore, cid: CID, size: number): Promise<void> {
  await datastore.put(PREFIX + cid.toString(), utf8Encode(String(size)))
}

/** Every recorded root with its file size. */
export async function listRoots (datastore: Datastore): Promise<Array<{ cid: CID, size: number }>> {
  const roots: Array<{ cid: CID, size: number }> = []
  for await (const { key, value } of datastore.query({ prefix: PREFIX })) {
    roots.push({ cid: parseCid(key.slice(PREFIX.length)), size: Number(utf8Decode(value)) })
  }
  return roots
}
