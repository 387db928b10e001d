/**
 * The XX handshake pattern of the Noise framework as a pure state machine (no I/O):
 *
 *   -> e
 *   <- e, ee, s, es
 *   -> s, se
 *
 * Each side calls the write/read steps for its role in order, then `split()`. Payloads are
 * opaque here; libp2p's signed identity payload is handled by the caller.
 */
import type { NoiseCrypto, X25519KeyPair } from './crypto.ts'
import { CipherState, SymmetricState, TAG_LENGTH, withoutStackTraces } from './symmetric-state.ts'
import { HandshakeError, InvalidMessageError } from '../../util/errors.ts'

export const NOISE_PROTOCOL_NAME = 'Noise_XX_25519_ChaChaPoly_SHA256'
const DH_LENGTH = 32
type Step = 'A' | 'B' | 'C' | 'done'

export interface XXHandshakeInit {
  initiator: boolean
  prologue?: Uint8Array
  /** Our static X25519 key pair. */
  staticKeyPair: X25519KeyPair
  /** Fixed ephemeral key pair (test vectors only); generated otherwise. */
  ephemeralKeyPair?: X25519KeyPair
}

export class XXHandshake {
  readonly initiator: boolean
  readonly #crypto: NoiseCrypto
  readonly #ss: SymmetricState
  readonly #s: X25519KeyPair
  #e: X25519KeyPair | undefined
  #re: Uint8Array | undefined
  #rs: Uint8Array | undefined
  #step: Step = 'A'

  constructor (crypto: NoiseCrypto, init: XXHandshakeInit) {
    this.#crypto = crypto
    this.initiator = init.initiator
    this.#s = init.staticKeyPair
    this.#e = init.ephemeralKeyPair
    this.#ss = new SymmetricState(crypto, NOISE_PROTOCOL_NAME)
    this.#ss.mixHash(init.prologue ?? new Uint8Array(0))
  }

  /** The remote static public key, known after message B (initiator) or C (responder). */
  get remoteStaticKey (): Uint8Array | undefined { return this.#rs }
  get handshakeHash (): Uint8Array { return this.#ss.handshakeHash }
  get staticPublicKey (): Uint8Array { return this.#s.publicKey }

  #expect (step: Step, initiatorWrites: boolean, writing: boolean): void {
    if (this.#step !== step || (this.initiator === initiatorWrites) !== writing) {
      throw new HandshakeError(`noise handshake step ${step} is out of order`)
    }
  }

  #dh (keyPair: X25519KeyPair, publicKey: Uint8Array): Uint8Array {
    try {
      return withoutStackTraces(() => this.#crypto.x25519(keyPair, publicKey))
    } catch (err) {
      throw new HandshakeError('noise key exchange failed', { cause: err })
    }
  }

  #decrypt (ciphertext: Uint8Array): Uint8Array {
    try {
      return this.#ss.decryptAndHash(ciphertext)
    } catch (err) {
      if (err instanceof InvalidMessageError) throw new HandshakeError('noise handshake message failed authentication', { cause: err })
      throw err
    }
  }

  #ephemeral (): X25519KeyPair {
    this.#e ??= this.#crypto.generateX25519KeyPair()
    return this.#e
  }

  /** -> e (initiator) */
  writeMessageA (payload: Uint8Array): Uint8Array {
    this.#expect('A', true, true)
    const e = this.#ephemeral()
    this.#ss.mixHash(e.publicKey)
    const body = this.#ss.encryptAndHash(payload)
    this.#step = 'B'
    return concat(e.publicKey, body)
  }

  readMessageA (message: Uint8Array): Uint8Array {
    this.#expect('A', true, false)
    if (message.length < DH_LENGTH) throw new HandshakeError('noise message A is too short')
    this.#re = message.slice(0, DH_LENGTH)
    this.#ss.mixHash(this.#re)
    const payload = this.#decrypt(message.subarray(DH_LENGTH))
    this.#step = 'B'
    return payload
  }

  /** <- e, ee, s, es (responder) */
  writeMessageB (payload: Uint8Array): Uint8Array {
    this.#expect('B', false, true)
    const e = this.#ephemeral()
    const re = this.#re!
    this.#ss.mixHash(e.publicKey)
    this.#ss.mixKey(this.#dh(e, re))
    const encryptedStatic = this.#ss.encryptAndHash(this.#s.publicKey)
    this.#ss.mixKey(this.#dh(this.#s, re))
    const body = this.#ss.encryptAndHash(payload)
    this.#step = 'C'
    return concat(e.publicKey, encryptedStatic, body)
  }

  readMessageB (message: Uint8Array): Uint8Array {
    this.#expect('B', false, false)
    if (message.length < DH_LENGTH + DH_LENGTH + TAG_LENGTH + TAG_LENGTH) throw new HandshakeError('noise message B is too short')
    const e = this.#e!
    this.#re = message.slice(0, DH_LENGTH)
    this.#ss.mixHash(this.#re)
    this.#ss.mixKey(this.#dh(e, this.#re))
    this.#rs = this.#decrypt(message.subarray(DH_LENGTH, DH_LENGTH * 2 + TAG_LENGTH)).slice()
    this.#ss.mixKey(this.#dh(e, this.#rs))
    const payload = this.#decrypt(message.subarray(DH_LENGTH * 2 + TAG_LENGTH))
    this.#step = 'C'
    return payload
  }

  /** -> s, se (initiator) */
  writeMessageC (payload: Uint8Array): Uint8Array {
    this.#expect('C', true, true)
    const encryptedStatic = this.#ss.encryptAndHash(this.#s.publicKey)
    this.#ss.mixKey(this.#dh(this.#s, this.#re!))
    const body = this.#ss.encryptAndHash(payload)
    this.#step = 'done'
    return concat(encryptedStatic, body)
  }

  readMessageC (message: Uint8Array): Uint8Array {
    this.#expect('C', true, false)
    if (message.length < DH_LENGTH + TAG_LENGTH + TAG_LENGTH) throw new HandshakeError('noise message C is too short')
    this.#rs = this.#decrypt(message.subarray(0, DH_LENGTH + TAG_LENGTH)).slice()
    this.#ss.mixKey(this.#dh(this.#e!, this.#rs))
    const payload = this.#decrypt(message.subarray(DH_LENGTH + TAG_LENGTH))
    this.#step = 'done'
    return payload
  }

  /** Transport cipher states as `{ send, receive }` for this side. */
  split (): { send: CipherState, receive: CipherState } {
    if (this.#step !== 'done') throw new HandshakeError('noise handshake is not finished')
    const [initiatorToResponder, responderToInitiator] = this.#ss.split()
    return this.initiator
      ? { send: initiatorToResponder, receive: responderToInitiator }
      : { send: responderToInitiator, receive: initiatorToResponder }
  }
}

function concat (...parts: Uint8Array[]): Uint8Array {
  let length = 0
  for (const p of parts) length += p.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const p of parts) { out.set(p, offset); offset += p.length }
  return out
}
