import type { KeyType, PublicKey } from './keys.ts'

/** A peer identity: the multihash of a public key. Implementation in src/peer/peer-id.ts. */
export interface PeerId {
  readonly type: KeyType | 'unknown'
  /** The multihash bytes (identity for keys <= 42 bytes encoded, sha2-256 otherwise). */
  readonly bytes: Uint8Array
  /** The public key, when it is inlined in the multihash or otherwise known. */
  readonly publicKey?: PublicKey
  /** base58btc form (`12D3KooW...`, `Qm...`, `16Uiu2...`). */
  toString(): string
  /** CIDv1 `libp2p-key` form, base32 (`bafzaa...`). */
  toCID(): string
  equals(other: PeerId | Uint8Array | string | undefined | null): boolean
}
