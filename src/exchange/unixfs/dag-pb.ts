/**
 * DAG-PB (ipld/specs codecs/dag-pb): the node format of UnixFS. A node is
 * `PBNode { repeated PBLink Links = 2; optional bytes Data = 1 }` and a link
 * `PBLink { optional bytes Hash = 1; optional string Name = 2; optional uint64 Tsize = 3 }`.
 *
 * The encoding is canonical, because the CID is the hash of these bytes: links first (field 2,
 * though its number is higher), then data; inside a link, fields in number order. The importer
 * writes `Name` as an empty string, as kubo and the js importer do, or the CIDs would differ.
 * The decoder is strict as the spec asks (only fields 1 and 2 in a node, only 1-3 in a link,
 * each at most once, links before data) and bounded by the block it reads.
 */
import { ProtobufReader, WIRE_LENGTH_DELIMITED } from '../../util/protobuf.ts'
import { InvalidMessageError } from '../../util/errors.ts'
import { encodeVarintInto, varintLength } from '../../util/varint.ts'
import { utf8Encode } from '../../util/bytes.ts'
import { decodeCid, type CID } from '../cid.ts'

export interface PBLink {
  /** The child's CID. */
  hash: CID
  name?: string
  /** Bytes of the child's block plus every block under it (the "cumulative size"). */
  tsize?: number
}

export interface PBNode {
  links: PBLink[]
  data?: Uint8Array
}

function lengthDelimited (field: number, length: number): number {
  return varintLength(field << 3) + varintLength(length) + length
}

function linkSize (link: PBLink, nameBytes: Uint8Array | undefined): number {
  let size = lengthDelimited(1, link.hash.bytes.length)
  if (nameBytes !== undefined) size += lengthDelimited(2, nameBytes.length)
  if (link.tsize !== undefined) size += 1 + varintLength(link.tsize)
  return size
}

/** The canonical bytes of a node, written into one buffer of the exact size. */
export function encodePBNode (node: PBNode): Uint8Array {
  const names = node.links.map(l => l.name === undefined ? undefined : utf8Encode(l.name))
  const sizes = node.links.map((l, i) => linkSize(l, names[i]))
  let total = 0
  for (const s of sizes) total += lengthDelimited(2, s)
  if (node.data !== undefined) total += lengthDelimited(1, node.data.length)
  const out = new Uint8Array(total)
  let pos = 0
  const header = (field: number, length: number): void => {
    out[pos++] = (field << 3) | WIRE_LENGTH_DELIMITED
    pos = encodeVarintInto(length, out, pos)
  }
  node.links.forEach((link, i) => {
    header(2, sizes[i])
    header(1, link.hash.bytes.length)
    out.set(link.hash.bytes, pos)
    pos += link.hash.bytes.length
    const name = names[i]
    if (name !== undefined) {
      header(2, name.length)
      out.set(name, pos)
      pos += name.length
    }
    if (link.tsize !== undefined) {
      out[pos++] = 3 << 3
      pos = encodeVarintInto(link.tsize, out, pos)
    }
  })
  if (node.data !== undefined) {
    header(1, node.data.length)
    out.set(node.data, pos)
    pos += node.data.length
  }
  return out
}

function decodeLink (bytes: Uint8Array): PBLink {
  const r = new ProtobufReader(bytes)
  let hash: CID | undefined
  let name: string | undefined
  let tsize: number | undefined
  let last = 0
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field <= last) throw new InvalidMessageError('dag-pb link fields out of order or repeated')
    last = field
    if (field === 1) hash = decodeCid(r.bytes(wire))
    else if (field === 2) name = r.string(wire)
    else if (field === 3) tsize = r.uint(wire)
    else throw new InvalidMessageError(`dag-pb link has an unknown field ${field}`)
  }
  if (hash === undefined) throw new InvalidMessageError('dag-pb link without a hash')
  return { hash, name, tsize }
}

/** Decodes a node; `data` is a view into `bytes`. Throws InvalidMessageError when not canonical dag-pb. */
export function decodePBNode (bytes: Uint8Array, maxLinks: number = 1 << 16): PBNode {
  const r = new ProtobufReader(bytes)
  const links: PBLink[] = []
  let data: Uint8Array | undefined
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 2) {
      if (data !== undefined) throw new InvalidMessageError('dag-pb links after data')
      if (links.length >= maxLinks) throw new InvalidMessageError(`dag-pb node has more than ${maxLinks} links`)
      links.push(decodeLink(r.bytes(wire)))
    } else if (field === 1) {
      if (data !== undefined) throw new InvalidMessageError('dag-pb data field repeated')
      data = r.bytes(wire)
    } else {
      throw new InvalidMessageError(`dag-pb node has an unknown field ${field}`)
    }
  }
  return { links, data }
}
