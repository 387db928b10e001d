/**
 * Bitswap: `import { bitswap } from 'ts-libp2p/bitswap'`, `services: { identify: identify(),
 * bitswap: bitswap() }`, then `node.services.bitswap.get(cid)`, or a whole file with
 * `catFile(cid, node.services.bitswap.createSession())` from 'ts-libp2p/unixfs'.
 */
export { bitswap, Bitswap, type BitswapOptions, type BitswapComponents, type BitswapLedger, type BitswapSession } from './bitswap.ts'
export { BITSWAP_120, BITSWAP_110, BITSWAP_100, BITSWAP_LEGACY, BITSWAP_PROTOCOLS, MAX_MESSAGE_SIZE, MAX_BLOCK_SIZE, decodeMessage, encodeMessage, encodeMessageLP, type BitswapMessage, type WantlistEntry } from './message.ts'
export { BlockHashMismatchError, BlockNotFoundError, UnsupportedCidError } from '../errors.ts'
