/**
 * Runs the libp2p Noise XX handshake over a raw connection: frames the three messages,
 * signs our static key with the identity key, verifies the remote's payload (signature,
 * expected peer id), and agrees on a stream muxer when both sides list some (inlined muxer
 * negotiation). Pure state lives in handshake-xx.ts; this file does the I/O and the checks.
 */
import type { AbortOptions } from '../../interface/common.ts'
import type { PrivateKey, PublicKey } from '../../interface/keys.ts'
import type { PeerId } from '../../interface/peer-id.ts'
import type { ByteStream } from '../../interface/stream.ts'
import { publicKeyFromProtobuf } from '../../crypto/index.ts'
import { peerIdFromPublicKey } from '../../peer/peer-id.ts'
import { HandshakeError, InvalidSignatureError, Libp2pError, UnexpectedPeerError } from '../../util/errors.ts'
import { StreamReader } from '../../util/stream-reader.ts'
import type { NoiseCrypto, X25519KeyPair } from './crypto.ts'
import { XXHandshake } from './handshake-xx.ts'
import { decodeHandshakePayload, encodeHandshakePayload, STATIC_KEY_SIGNATURE_PREFIX, type NoiseExtensions } from './payload.ts'
import { withoutStackTraces, type CipherState } from './symmetric-state.ts'
import { MAX_FRAME_LENGTH } from './noise-connection.ts'
import { runAtBatchEnd } from '../../util/timers.ts'

export interface HandshakeParams extends AbortOptions {
  crypto: NoiseCrypto
  initiator: boolean
  staticKeyPair: X25519KeyPair
  /** Our identity key and its signature over our static key (computed once per key). */
  identityKey: PrivateKey
  identitySig: Uint8Array
  prologue?: Uint8Array
  extensions: NoiseExtensions
  /** The peer we dialed, when known. */
  remotePeer?: PeerId
  /** A fresh ephemeral key pair to use (one is generated otherwise); never reuse one. */
  ephemeralKeyPair?: X25519KeyPair
  /**
   * Called once our first message has been handed to the transport and we wait for the
   * remote's answer: a good moment for work that would otherwise delay a handshake.
   */
  onWaiting?: () => void
}

export interface HandshakeResult {
  send: CipherState
  receive: CipherState
  remotePeer: PeerId
  remotePublicKey: PublicKey
  remoteExtensions?: NoiseExtensions
  streamMuxer?: string
  handshakeHash: Uint8Array
}

/** `identity_sig`: the identity key's signature over the prefix and our static public key. */
export async function signStaticKey (identityKey: PrivateKey, staticPublicKey: Uint8Array): Promise<Uint8Array> {
  return await identityKey.sign(concat(STATIC_KEY_SIGNATURE_PREFIX, staticPublicKey))
}

export async function performHandshake (conn: ByteStream, params: HandshakeParams): Promise<HandshakeResult> {
  const { crypto, initiator, signal } = params
  const hs = new XXHandshake(crypto, { initiator, prologue: params.prologue, staticKeyPair: params.staticKeyPair, ephemeralKeyPair: params.ephemeralKeyPair })
  const payload = encodeHandshakePayload({
    identityKey: params.identityKey.publicKey.toProtobuf(),
    identitySig: params.identitySig,
    extensions: params.extensions
  })
  const reader = new StreamReader(conn)
  try {
    let remote: RemoteIdentity
    if (initiator) {
      await conn.write(frame(hs.writeMessageA(new Uint8Array(0))), { signal })
      params.onWaiting?.()
      const payloadB = hs.readMessageB(await readFrame(reader, signal))
      // Verified before message C: our identity is never revealed to the wrong peer.
      remote = await verifyPayload(payloadB, hs.remoteStaticKey!, params.remotePeer)
      await conn.write(frame(hs.writeMessageC(payload)), { signal })
      // The responder can do nothing for this connection until message C arrives, and our
      // next steps (building the connection, opening the caller's first stream) take a while:
      // let C leave before them instead of after.
      if (conn.flush !== undefined) conn.flush()
      else await queuedWritesFlushed()
    } else {
      // Message A's payload is empty by spec; anything there is ignored.
      hs.readMessageA(await readFrame(reader, signal))
      await conn.write(frame(hs.writeMessageB(payload)), { signal })
      params.onWaiting?.()
      const payloadC = hs.readMessageC(await readFrame(reader, signal))
      remote = await verifyPayload(payloadC, hs.remoteStaticKey!, params.remotePeer)
    }
    const local = params.extensions.streamMuxers
    const theirs = remote.extensions?.streamMuxers ?? []
    return {
      ...hs.split(),
      remotePeer: remote.peerId,
      remotePublicKey: remote.publicKey,
      remoteExtensions: remote.extensions,
      streamMuxer: initiator ? selectMuxer(local, theirs) : selectMuxer(theirs, local),
      handshakeHash: hs.handshakeHash
    }
  } catch (err) {
    const error = err instanceof Libp2pError || signal?.aborted === true
      ? err as Error
      : new HandshakeError('noise handshake failed', { cause: err })
    conn.abort(error)
    throw error
  } finally {
    reader.release()
  }
}

/**
 * The first muxer of the initiator's list that the responder also lists. Both lists must be
 * present; otherwise (or without overlap) the muxer is negotiated with multistream-select
 * afterwards, as go-libp2p does.
 */
export function selectMuxer (initiatorMuxers: readonly string[], responderMuxers: readonly string[]): string | undefined {
  if (initiatorMuxers.length === 0 || responderMuxers.length === 0) return undefined
  return initiatorMuxers.find(m => responderMuxers.includes(m))
}

interface RemoteIdentity {
  peerId: PeerId
  publicKey: PublicKey
  extensions?: NoiseExtensions
}

/**
 * Identities verified lately, by the exact bytes checked: identity key, the static key it
 * signed, signature. A reconnecting peer sends the same three again (its static key lives as
 * long as its node), and checking them again can only give the same answer, so the signature
 * check (~100-150 us, on the critical path of both sides) is skipped and the key and peer id
 * objects are reused. Only a peer holding that static private key gets this far (messages B
 * and C decrypt only with it). Bounded, least recently used out first.
 */
export const VERIFIED_IDENTITY_CACHE_SIZE = 256
const verifiedIdentities = new Map<string, { publicKey: PublicKey, peerId: PeerId }>()

function identityCacheKey (identityKey: Uint8Array, staticKey: Uint8Array, signature: Uint8Array): string {
  let key = `${identityKey.length},${staticKey.length},`
  for (const part of [identityKey, staticKey, signature]) {
    for (let i = 0; i < part.length; i++) key += String.fromCharCode(part[i])
  }
  return key
}

async function verifyPayload (bytes: Uint8Array, remoteStaticKey: Uint8Array, expected?: PeerId): Promise<RemoteIdentity> {
  const payload = decodeHandshakePayload(bytes)
  const cacheKey = identityCacheKey(payload.identityKey, remoteStaticKey, payload.identitySig)
  let identity = verifiedIdentities.get(cacheKey)
  if (identity !== undefined) {
    verifiedIdentities.delete(cacheKey)
  } else {
    let publicKey: PublicKey
    try {
      publicKey = publicKeyFromProtobuf(payload.identityKey)
    } catch (err) {
      throw new HandshakeError('the remote sent an invalid identity key', { cause: err })
    }
    // The key import inside verify is one of node:crypto's throw-and-catch checks (see withoutStackTraces).
    const valid = await withoutStackTraces(() => publicKey.verify(concat(STATIC_KEY_SIGNATURE_PREFIX, remoteStaticKey), payload.identitySig))
    if (!valid) throw new InvalidSignatureError('the remote identity key did not sign its noise static key')
    identity = { publicKey, peerId: peerIdFromPublicKey(publicKey) }
    if (verifiedIdentities.size >= VERIFIED_IDENTITY_CACHE_SIZE) verifiedIdentities.delete(verifiedIdentities.keys().next().value!)
  }
  verifiedIdentities.set(cacheKey, identity)
  const { peerId, publicKey } = identity
  if (expected !== undefined && !expected.equals(peerId)) {
    throw new UnexpectedPeerError(`dialed ${expected.toString()} but the remote is ${peerId.toString()}`)
  }
  return { peerId, publicKey, extensions: payload.extensions }
}

/**
 * Resolves once writes queued so far have gone to the transport. A transport that coalesces
 * writes (TCP) holds them until the end of the I/O batch, so a task queued for the batch end
 * now runs after that flush; browsers hold no writes back.
 */
async function queuedWritesFlushed (): Promise<void> {
  await new Promise<void>(resolve => { runAtBatchEnd(resolve) })
}

function frame (message: Uint8Array): Uint8Array {
  if (message.length > MAX_FRAME_LENGTH) throw new HandshakeError('noise handshake message exceeds 65535 bytes')
  const out = new Uint8Array(2 + message.length)
  out[0] = message.length >>> 8
  out[1] = message.length & 0xff
  out.set(message, 2)
  return out
}

async function readFrame (reader: StreamReader, signal?: AbortSignal): Promise<Uint8Array> {
  const header = await reader.readExactly(2, { signal })
  const length = (header[0] << 8) | header[1]
  // Copied: the reader's buffer is reused by the next read.
  return (await reader.readExactly(length, { signal })).slice()
}

function concat (a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}
