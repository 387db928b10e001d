/**
 * The UnixFS `Data` message (ipfs/specs UNIXFS.md), carried in a dag-pb node's Data field:
 * `Type = 1` (Raw 0, Directory 1, File 2, Metadata 3, Symlink 4, HAMTShard 5), `Data = 2`,
 * `filesize = 3`, `blocksizes = 4` (repeated, one per link: the file bytes under it),
 * `hashType = 5`, `fanout = 6`, `mode = 7`, `mtime = 8`.
 *
 * Encoding follows what kubo writes for files (the CIDs depend on it): Type, then Data only when
 * non-empty, then filesize (always, even 0), then one unpacked varint per block size. The
 * decoder takes both packed and unpacked block sizes and skips the fields files do not need.
 */
import { ProtobufReader, WIRE_LENGTH_DELIMITED } from '../../util/protobuf.ts'
import { InvalidMessageError } from '../../util/errors.ts'
import { decodeVarint, encodeVarintInto, varintLength } from '../../util/varint.ts'

export const UNIXFS_RAW = 0
export const UNIXFS_DIRECTORY = 1
export const UNIXFS_FILE = 2

export interface UnixFSData {
  type: number
  data?: Uint8Array
  fileSize?: number
  blockSizes: number[]
}

/** The Data message of a file node: its bytes (leaf) or the sizes of its children (parent). */
export function encodeUnixFSFile (data: Uint8Array | undefined, fileSize: number, blockSizes: readonly number[]): Uint8Array {
  const hasData = data !== undefined && data.length > 0
  let size = 2 + 1 + varintLength(fileSize)
  if (hasData) size += 1 + varintLength(data.length) + data.length
  for (const b of blockSizes) size += 1 + varintLength(b)
  const out = new Uint8Array(size)
  let pos = 0
  out[pos++] = 1 << 3
  out[pos++] = UNIXFS_FILE
  if (hasData) {
    out[pos++] = (2 << 3) | WIRE_LENGTH_DELIMITED
    pos = encodeVarintInto(data.length, out, pos)
    out.set(data, pos)
    pos += data.length
  }
  out[pos++] = 3 << 3
  pos = encodeVarintInto(fileSize, out, pos)
  for (const b of blockSizes) {
    out[pos++] = 4 << 3
    pos = encodeVarintInto(b, out, pos)
  }
  return out
}

/** Decodes a Data message (bounded by its bytes; `data` is a view). */
export function decodeUnixFSData (bytes: Uint8Array, maxBlockSizes: number = 1 << 16): UnixFSData {
  const r = new ProtobufReader(bytes)
  let type: number | undefined
  let data: Uint8Array | undefined
  let fileSize: number | undefined
  const blockSizes: number[] = []
  const pushSize = (v: number): void => {
    if (blockSizes.length >= maxBlockSizes) throw new InvalidMessageError(`more than ${maxBlockSizes} UnixFS block sizes`)
    blockSizes.push(v)
  }
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) type = r.uint(wire)
    else if (field === 2) data = r.bytes(wire)
    else if (field === 3) fileSize = r.uint(wire)
    else if (field === 4 && wire === WIRE_LENGTH_DELIMITED) {
      const packed = r.bytes(wire)
      for (let offset = 0; offset < packed.length;) {
        const v = decodeVarint(packed, offset, 10)
        if (v === undefined) throw new InvalidMessageError('truncated packed UnixFS block size')
        pushSize(v[0])
        offset += v[1]
      }
    } else if (field === 4) pushSize(r.uint(wire))
    else r.skip(wire)
  }
  if (type === undefined) throw new InvalidMessageError('UnixFS Data without a Type')
  return { type, data, fileSize, blockSizes }
}
