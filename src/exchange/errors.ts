/**
 * The exchange layer's errors (blocks, CIDs, UnixFS, Bitswap). Each class spells its `name` as
 * a literal and has a stable `code`, as every error of the package does (util/errors.ts).
 */
import { Libp2pError } from '../util/errors.ts'

/** A block's bytes do not hash to its CID: it was corrupted or a peer lied. */
export class BlockHashMismatchError extends Libp2pError {
  static readonly code = 'ERR_BLOCK_HASH_MISMATCH'
  constructor (message = 'block bytes do not match the CID') {
    super(message, BlockHashMismatchError.code)
    this.name = 'BlockHashMismatchError'
  }
}

/** A CID this node cannot verify or decode (an unknown hash function or codec). */
export class UnsupportedCidError extends Libp2pError {
  static readonly code = 'ERR_UNSUPPORTED_CID'
  constructor (message = 'unsupported CID') {
    super(message, UnsupportedCidError.code)
    this.name = 'UnsupportedCidError'
  }
}

/** A block was asked for and is not in the store (and, for bitswap, not found in time). */
export class BlockNotFoundError extends Libp2pError {
  static readonly code = 'ERR_BLOCK_NOT_FOUND'
  constructor (message = 'block not found') {
    super(message, BlockNotFoundError.code)
    this.name = 'BlockNotFoundError'
  }
}

/** A DAG node that is not a UnixFS file this implementation can read (a directory, bad sizes, too deep). */
export class InvalidUnixFSError extends Libp2pError {
  static readonly code = 'ERR_INVALID_UNIXFS'
  constructor (message = 'invalid UnixFS node') {
    super(message, InvalidUnixFSError.code)
    this.name = 'InvalidUnixFSError'
  }
}
