/**
 * Record validation and selection per namespace (specs kad-dht "Entry validation"). A record
 * key is `/<namespace>/<rest>`; the namespace picks a validator that must accept a value
 * before it is stored (PUT_VALUE) or returned (GET_VALUE), and a selector that picks the best
 * of several valid values. Keys in namespaces nobody registered are rejected, as go and js do.
 *
 * Built in: `/pk/` (a public key stored under its peer id). `/ipns/` is pluggable: pass a
 * validator for it (ts-libp2p does not implement IPNS itself).
 */
import { publicKeyFromProtobuf, sha256 } from '../crypto/index.ts'
import { peerIdFromPublicKey } from '../peer/peer-id.ts'
import { equalBytes } from '../util/bytes.ts'
import { InvalidMessageError } from '../util/errors.ts'

export interface RecordValidator {
  /** Throws when `value` is not acceptable under `key`. */
  validate(key: Uint8Array, value: Uint8Array): void | Promise<void>
  /** Index of the best of `values` (all already validated). */
  select(key: Uint8Array, values: Uint8Array[]): number
}

export type Validators = Record<string, RecordValidator>

const SLASH = 0x2f
const SHA2_256 = 0x12
const MAX_NAMESPACE_LENGTH = 64

/** `pk` for `/pk/...`; throws InvalidMessageError for keys without a namespace. */
export function namespaceOf (key: Uint8Array): string {
  if (key.length < 3 || key[0] !== SLASH) throw new InvalidMessageError('record key does not start with /<namespace>/')
  const end = key.indexOf(SLASH, 1)
  if (end <= 1 || end > MAX_NAMESPACE_LENGTH) throw new InvalidMessageError('record key does not start with /<namespace>/')
  let ns = ''
  for (let i = 1; i < end; i++) ns += String.fromCharCode(key[i])
  return ns
}

/**
 * `/pk/<multihash>` holds a PublicKey protobuf. go checks the key's peer id equals the
 * multihash (identity for small keys), js checks sha256(value); both forms are accepted so
 * that records written by either validate here.
 */
export const publicKeyValidator: RecordValidator = {
  validate (key, value) {
    const hash = key.subarray(4)
    if (hash.length === 0) throw new InvalidMessageError('/pk/ record key has no multihash')
    let id: Uint8Array
    try {
      id = peerIdFromPublicKey(publicKeyFromProtobuf(value)).bytes
    } catch (err) {
      throw new InvalidMessageError(`/pk/ record value is not a public key: ${(err as Error).message}`)
    }
    if (equalBytes(id, hash)) return
    if (hash.length === 34 && hash[0] === SHA2_256 && hash[1] === 32 && equalBytes(hash.subarray(2), sha256(value))) return
    throw new InvalidMessageError('/pk/ record value does not hash to the key')
  },
  select () { return 0 }
}

export const DEFAULT_VALIDATORS: Validators = { pk: publicKeyValidator }

export class RecordValidation {
  readonly #validators: Validators

  constructor (extra: Validators = {}) {
    this.#validators = { ...DEFAULT_VALIDATORS, ...extra }
  }

  #validatorFor (key: Uint8Array): RecordValidator {
    const ns = namespaceOf(key)
    const validator = Object.hasOwn(this.#validators, ns) ? this.#validators[ns] : undefined
    if (validator === undefined) throw new InvalidMessageError(`no validator for the record namespace '${ns}'`)
    return validator
  }

  async validate (key: Uint8Array, value: Uint8Array): Promise<void> {
    await this.#validatorFor(key).validate(key, value)
  }

  select (key: Uint8Array, values: Uint8Array[]): number {
    if (values.length <= 1) return 0
    const i = this.#validatorFor(key).select(key, values)
    return Number.isInteger(i) && i >= 0 && i < values.length ? i : 0
  }
}
