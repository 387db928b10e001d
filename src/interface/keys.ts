/** Public types for cryptographic keys. Implementations live in src/crypto. */
export type KeyType = 'RSA' | 'Ed25519' | 'secp256k1' | 'ECDSA'

export interface PublicKey {
  readonly type: KeyType
  /** The key in the encoding that the `Data` field of the PublicKey protobuf carries. */
  readonly raw: Uint8Array
  verify(data: Uint8Array, signature: Uint8Array): boolean | Promise<boolean>
  /** The deterministic PublicKey protobuf encoding. */
  toProtobuf(): Uint8Array
  equals(other: PublicKey): boolean
}

export interface PrivateKey {
  readonly type: KeyType
  /** The key in the encoding that the `Data` field of the PrivateKey protobuf carries. */
  readonly raw: Uint8Array
  readonly publicKey: PublicKey
  sign(data: Uint8Array): Uint8Array | Promise<Uint8Array>
  /** The deterministic PrivateKey protobuf encoding. */
  toProtobuf(): Uint8Array
  equals(other: PrivateKey): boolean
}
