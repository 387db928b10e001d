/**
 * Noise CipherState and SymmetricState (Noise spec §5.1, §5.2) for ChaChaPoly + SHA256.
 *
 * CipherState also serves the transport phase, where `sealInto` writes ciphertext straight into
 * a caller-built frame so the write path makes no extra copy.
 */
import type { Aead, NoiseCrypto, PieceOpener } from './crypto.ts'
import { utf8Encode } from '../../util/bytes.ts'
import { InvalidMessageError, LimitExceededError } from '../../util/errors.ts'

export const TAG_LENGTH = 16
/**
 * Noise reserves nonce 2^64-1 and requires closing before it. Counters here are JavaScript
 * numbers, so we stop at 2^53-1, which is earlier and therefore equally safe; no connection
 * sends 2^53 messages.
 */
export const MAX_NONCE = Number.MAX_SAFE_INTEGER

/**
 * Runs `fn` with V8's stack trace capture off. node:crypto checks key arguments (X25519 public
 * keys, HKDF input keys) with an internal throw-and-catch, and capturing stacks for those
 * discarded errors costs more than the key import itself: about 20 us per DH and 5 us per HKDF,
 * ~100 us per handshake and side, on the critical path of every connection. An error escaping
 * `fn` has no stack; callers wrap crypto failures in their own errors.
 */
export function withoutStackTraces<T> (fn: () => T): T {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return fn()
  } finally {
    Error.stackTraceLimit = limit
  }
}

export class CipherState {
  readonly #crypto: NoiseCrypto
  #aead: Aead | undefined
  #n = 0
  readonly #nonce = new Uint8Array(12)
  readonly #nonceView = new DataView(this.#nonce.buffer)

  constructor (crypto: NoiseCrypto, key?: Uint8Array) {
    this.#crypto = crypto
    if (key !== undefined) this.initializeKey(key)
  }

  initializeKey (key: Uint8Array): void {
    this.#aead = this.#crypto.createAead(key)
    this.#n = 0
  }

  get hasKey (): boolean { return this.#aead !== undefined }
  get nonce (): number { return this.#n }

  /** Test hook: jump the counter (e.g. to check nonce exhaustion). */
  setNonceForTesting (n: number): void { this.#n = n }

  /** 4 zero bytes, then the 64-bit counter little-endian. */
  #nextNonce (): Uint8Array {
    const n = this.#n
    if (n >= MAX_NONCE) throw new LimitExceededError('noise nonce exhausted: the connection must be closed')
    this.#nonceView.setUint32(4, n >>> 0, true)
    this.#nonceView.setUint32(8, Math.floor(n / 0x100000000), true)
    return this.#nonce
  }

  encryptWithAd (ad: Uint8Array | undefined, plaintext: Uint8Array): Uint8Array {
    if (this.#aead === undefined) return plaintext
    const out = new Uint8Array(plaintext.length + TAG_LENGTH)
    this.#aead.seal(this.#nextNonce(), ad, plaintext, out, 0)
    this.#n++
    return out
  }

  /** Encrypts into `out` at `offset` (plaintext.length + 16 bytes); the key must be set. */
  sealInto (plaintext: Uint8Array, out: Uint8Array, offset: number): void {
    const aead = this.#aead
    if (aead === undefined) throw new InvalidMessageError('cipher state has no key')
    aead.seal(this.#nextNonce(), undefined, plaintext, out, offset)
    this.#n++
  }

  /**
   * Transport: seals the concatenation of `parts` as one message, appending the ciphertext
   * pieces and the tag to `out` (see Aead.sealParts); the key must be set.
   */
  sealParts (parts: readonly Uint8Array[], out: Uint8Array[]): void {
    const aead = this.#aead
    if (aead === undefined) throw new InvalidMessageError('cipher state has no key')
    aead.sealParts(this.#nextNonce(), parts, out)
    this.#n++
  }

  /**
   * Transport: opens one message given as ciphertext pieces and its tag, appending the
   * plaintext pieces to `out`. Throws InvalidMessageError when authentication fails (the nonce
   * then stays unchanged and `out` untouched).
   */
  openParts (parts: readonly Uint8Array[], tag: Uint8Array, out: Uint8Array[]): void {
    const aead = this.#aead
    if (aead === undefined) throw new InvalidMessageError('cipher state has no key')
    const nonce = this.#nextNonce()
    try {
      aead.openParts(nonce, parts, tag, out)
    } catch (err) {
      throw new InvalidMessageError('noise message failed authentication', { cause: err })
    }
    this.#n++
  }

  /** True when a message can be opened piece by piece as it arrives (beginOpen). */
  get opensInPieces (): boolean { return this.#aead?.beginOpen !== undefined }

  #opener: PieceOpener | undefined

  /**
   * Transport: starts opening the next message piece by piece (see Aead.beginOpen): feed its
   * ciphertext to `openPiece`, then `finishOpen` with the tag. Only when `opensInPieces`.
   */
  beginOpen (): void {
    const aead = this.#aead
    if (aead?.beginOpen === undefined) throw new InvalidMessageError('cipher state cannot open in pieces')
    this.#opener = aead.beginOpen(this.#nextNonce())
  }

  openPiece (ciphertext: Uint8Array, out: Uint8Array[]): void {
    this.#opener!.update(ciphertext, out)
  }

  /** Throws InvalidMessageError when authentication fails (the plaintext must then be dropped). */
  finishOpen (tag: Uint8Array): void {
    const opener = this.#opener!
    this.#opener = undefined
    try {
      opener.finish(tag)
    } catch (err) {
      throw new InvalidMessageError('noise message failed authentication', { cause: err })
    }
    this.#n++
  }

  /** Throws InvalidMessageError when authentication fails; the nonce then stays unchanged. */
  decryptWithAd (ad: Uint8Array | undefined, ciphertext: Uint8Array): Uint8Array {
    if (this.#aead === undefined) return ciphertext
    let plaintext: Uint8Array
    try {
      plaintext = this.#aead.open(this.#nextNonce(), ad, ciphertext)
    } catch (err) {
      if (err instanceof LimitExceededError) throw err
      throw new InvalidMessageError('noise message failed authentication', { cause: err })
    }
    this.#n++
    return plaintext
  }
}

export class SymmetricState {
  readonly #crypto: NoiseCrypto
  readonly cipherState: CipherState
  #ck: Uint8Array
  #h: Uint8Array

  constructor (crypto: NoiseCrypto, protocolName: string) {
    this.#crypto = crypto
    this.cipherState = new CipherState(crypto)
    const name = utf8Encode(protocolName)
    if (name.length <= 32) {
      this.#h = new Uint8Array(32)
      this.#h.set(name)
    } else {
      this.#h = crypto.sha256(name)
    }
    this.#ck = this.#h
  }

  /** The handshake hash: after the handshake, a unique session identifier. */
  get handshakeHash (): Uint8Array { return this.#h }

  mixKey (inputKeyMaterial: Uint8Array): void {
    const [ck, tempK] = withoutStackTraces(() => this.#crypto.hkdf(this.#ck, inputKeyMaterial))
    this.#ck = ck
    this.cipherState.initializeKey(tempK)
  }

  mixHash (data: Uint8Array): void {
    this.#h = this.#crypto.sha256(this.#h, data)
  }

  encryptAndHash (plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipherState.encryptWithAd(this.#h, plaintext)
    this.mixHash(ciphertext)
    return ciphertext
  }

  decryptAndHash (ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.cipherState.decryptWithAd(this.#h, ciphertext)
    this.mixHash(ciphertext)
    return plaintext
  }

  /** The two transport cipher states: initiator-to-responder first. */
  split (): [CipherState, CipherState] {
    const [k1, k2] = withoutStackTraces(() => this.#crypto.hkdf(this.#ck, new Uint8Array(0)))
    return [new CipherState(this.#crypto, k1), new CipherState(this.#crypto, k2)]
  }
}
