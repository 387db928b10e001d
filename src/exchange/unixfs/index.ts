/**
 * UnixFS files: `import { addFile, catFile } from 'ts-libp2p/unixfs'`. `addFile(bytes, store)`
 * chunks a file into blocks with kubo's CIDs (see add.ts), `catFile(cid, source)` reads one back,
 * verified. Blocks live in a `Blockstore` (`ts-libp2p/blockstore`); a Bitswap node is a
 * `BlockSource` too, so `catFile(cid, bitswap)` fetches a file from peers.
 */
export { addFile, DEFAULT_CHUNK_SIZE, DEFAULT_MAX_CHILDREN, type AddOptions, type AddResult } from './add.ts'
export { catFile, type BlockSource, type CatOptions } from './cat.ts'
export { encodePBNode, decodePBNode, type PBNode, type PBLink } from './dag-pb.ts'
export { encodeUnixFSFile, decodeUnixFSData, UNIXFS_FILE, UNIXFS_RAW, UNIXFS_DIRECTORY, type UnixFSData } from './unixfs-data.ts'
export { InvalidUnixFSError } from '../errors.ts'
