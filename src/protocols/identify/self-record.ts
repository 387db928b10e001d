/**
 * Our own signed peer record for identify, re-signed only when our address set changes.
 * Signing on every identify response would cost a signature per connection; peers compare
 * sequence numbers, so a new record must always carry a larger one (time-based, like go
 * and js, and strictly increasing within the process).
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PrivateKey } from '../../interface/keys.ts'
import { createSignedPeerRecord } from '../../peer/peer-record.ts'


/** Makes the envelope bytes of a peer record for `addrs` with sequence number `seq`. */
export type SignPeerRecord = (privateKey: PrivateKey, addrs: Multiaddr[], seq: bigint) => Promise<Uint8Array> | Uint8Array

const defaultSign: SignPeerRecord = async (privateKey, addrs, seq) => await createSignedPeerRecord(privateKey, addrs, { seq })

export class SelfRecordCache {
  readonly #privateKey: PrivateKey
  readonly #sign: SignPeerRecord
  #key: string | undefined
  #record: Promise<Uint8Array> | undefined
  #seq = 0n

  constructor (privateKey: PrivateKey, sign: SignPeerRecord = defaultSign) {
    this.#privateKey = privateKey
    this.#sign = sign
  }

  /** The envelope for exactly these addresses (without /p2p). */
  async get (addrs: Multiaddr[]): Promise<Uint8Array> {
    const key = addrs.map(a => a.toString()).join(' ')
    if (this.#record === undefined || key !== this.#key) {
      const now = BigInt(Date.now())
      this.#seq = now > this.#seq ? now : this.#seq + 1n
      this.#key = key
      const record = Promise.resolve(this.#sign(this.#privateKey, addrs, this.#seq))
      this.#record = record
      // a failed signature must not be cached
      record.catch(() => { if (this.#record === record) this.#record = undefined })
    }
    return await this.#record
  }
}

