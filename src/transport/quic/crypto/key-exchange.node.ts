/**
 * The (EC)DHE key shares of the handshake (RFC 8446 4.2.8): X25519 (what we send first) and
 * secp256r1 (offered in supported_groups, used after a HelloRetryRequest asks for it).
 * node:crypto does both; a peer's malformed or low-order share is an illegal_parameter alert.
 */
import { createECDH, diffieHellman, generateKeyPairSync } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { publicKeyFromSpki } from '../../../crypto/key-object.node.ts'
import { runOnNextTurn } from '../../../util/timers.ts'
import { QuicTlsError, TlsAlert } from './errors.ts'
import { NamedGroup } from './tls-messages.ts'

/** Groups we can compute, in our order of preference. */
export const SUPPORTED_GROUPS: number[] = [NamedGroup.x25519, NamedGroup.secp256r1]

export interface KeyShare {
  group: number
  /** The public value that goes on the wire. */
  publicKey: Uint8Array
  /** The shared secret with the peer's public value. */
  deriveSharedSecret(peerPublicKey: Uint8Array): Uint8Array
}

// The DER SubjectPublicKeyInfo prefix of an X25519 key: what node:crypto wants around the 32 raw bytes.
const X25519_SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00])

interface X25519Pair { privateKey: KeyObject, publicKey: Uint8Array }

/*
 * Our public value leaves as a JWK's `x` (base64url): node:crypto exports it that way in ~1.5 us
 * against ~27 us for DER (a dial + first ping spent ~2 % of its CPU exporting). The peer's comes
 * in as DER through PEM text (publicKeyFromSpki: ~13 us, against ~30 us as a JWK).
 */
function newX25519Pair (): X25519Pair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519')
  const jwk = publicKey.export({ format: 'jwk' })
  if (typeof jwk.x !== 'string') throw new QuicTlsError('X25519 key export without x', TlsAlert.internalError)
  return { privateKey, publicKey: new Uint8Array(Buffer.from(jwk.x, 'base64url')) }
}

/**
 * One ephemeral pair made ahead: generating it (~45 us) sits on the dial's path on both sides
 * (the client's ClientHello, the server's answer to it), where a spare made while the process
 * waits for the peer does not. Each pair serves one handshake. The next spare is made two
 * turns of the event loop after one is taken: the first turn ends with the send pass that
 * carries this handshake's flight, so the spare is made while the peer works on it.
 */
let spareX25519: X25519Pair | undefined
let refillQueued = false

function takeX25519Pair (): X25519Pair {
  const pair = spareX25519 ?? newX25519Pair()
  spareX25519 = undefined
  if (!refillQueued) {
    refillQueued = true
    runOnNextTurn(() => {
      runOnNextTurn(() => {
        refillQueued = false
        spareX25519 ??= newX25519Pair()
      })
    })
  }
  return pair
}

function x25519Share (): KeyShare {
  const { publicKey, privateKey } = takeX25519Pair()
  return {
    group: NamedGroup.x25519,
    publicKey,
    deriveSharedSecret (peer) {
      if (peer.length !== 32) throw new QuicTlsError(`X25519 key share of ${peer.length} bytes`, TlsAlert.illegalParameter)
      const spkiBytes = new Uint8Array(X25519_SPKI_PREFIX.length + 32)
      spkiBytes.set(X25519_SPKI_PREFIX)
      spkiBytes.set(peer, X25519_SPKI_PREFIX.length)
      let peerKey: KeyObject
      let secret: Uint8Array
      try {
        peerKey = publicKeyFromSpki(spkiBytes)
        secret = new Uint8Array(diffieHellman({ privateKey, publicKey: peerKey }))
      } catch (err) {
        throw new QuicTlsError('unusable X25519 key share', TlsAlert.illegalParameter, { cause: err })
      }
      // RFC 8446 7.4.2: an all-zero result means a low-order point.
      if (secret.every(b => b === 0)) throw new QuicTlsError('X25519 key share is a low-order point', TlsAlert.illegalParameter)
      return secret
    }
  }
}

function p256Share (): KeyShare {
  const ecdh = createECDH('prime256v1')
  const publicKey = new Uint8Array(ecdh.generateKeys())
  return {
    group: NamedGroup.secp256r1,
    publicKey,
    deriveSharedSecret (peer) {
      // RFC 8446 4.2.8.2: uncompressed points only.
      if (peer.length !== 65 || peer[0] !== 0x04) throw new QuicTlsError('secp256r1 key share is not an uncompressed point', TlsAlert.illegalParameter)
      try {
        return new Uint8Array(ecdh.computeSecret(peer))
      } catch (err) {
        throw new QuicTlsError('secp256r1 key share is not on the curve', TlsAlert.illegalParameter, { cause: err })
      }
    }
  }
}

/** A fresh ephemeral key share for `group` (one of SUPPORTED_GROUPS). */
export function generateKeyShare (group: number): KeyShare {
  if (group === NamedGroup.x25519) return x25519Share()
  if (group === NamedGroup.secp256r1) return p256Share()
  throw new QuicTlsError(`unsupported key share group 0x${group.toString(16)}`, TlsAlert.illegalParameter)
}

