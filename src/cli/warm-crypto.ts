/**
 * Runs once each node:crypto operation a Noise handshake uses, for a command about to start a
 * measurement (`perf`'s client, before its clock starts).
 *
 * OpenSSL looks an algorithm's implementation up the first time a process uses it, and
 * node:crypto builds its decoders on first use too: in profiles of a fresh perf client the
 * first public key import alone took 1-1.5 ms of the connection + 1-byte window, and the first
 * ChaCha20-Poly1305 cipher, X25519 key pair and SHA-256 each a few tenths of a millisecond
 * more, all of it the process's start-up rather than the connection's. These are throwaway
 * keys; nothing here is kept. The process's own time is not cut, only moved before the dial.
 */
import { createCipheriv, createHash, createHmac, diffieHellman, generateKeyPairSync } from 'node:crypto'
import { generateKeyPairFromSeed, publicKeyFromProtobuf } from '../index.ts'

export async function warmHandshakeCrypto (): Promise<void> {
  // the identity key: sign, then import the public key as a remote's and verify with it
  const identity = generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(7))
  const message = new Uint8Array(32)
  const signature = await identity.sign(message)
  await publicKeyFromProtobuf(identity.publicKey.toProtobuf()).verify(message, signature)
  // the ephemeral and static keys, the transport cipher and the hashes behind HKDF
  const a = generateKeyPairSync('x25519')
  const b = generateKeyPairSync('x25519')
  diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey })
  const cipher = createCipheriv('chacha20-poly1305', Buffer.alloc(32), Buffer.alloc(12), { authTagLength: 16 })
  cipher.update(message)
  cipher.final()
  cipher.getAuthTag()
  createHash('sha256').update(message).digest()
  createHmac('sha256', message).update(message).digest()
}
