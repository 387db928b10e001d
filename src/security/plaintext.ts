/**
 * Plaintext 2.0 (`/plaintext/2.0.0`): an unencrypted "security" protocol for tests and
 * trusted links. Each side sends one length-prefixed `Exchange{id = 1 (peer id multihash),
 * pubkey = 2 (PublicKey protobuf)}`, checks that the remote's id matches its key (and, when
 * dialing, the expected peer), and the raw connection is then used as is.
 * It authenticates nothing: never use it on an untrusted network.
 */
import { publicKeyFromProtobuf } from '../crypto/index.ts'
import type { PrivateKey, PublicKey } from '../interface/keys.ts'
import type { PeerId } from '../interface/peer-id.ts'
import type { ConnectionEncrypter, SecureOptions, SecuredConnection } from '../interface/security.ts'
import type { ByteStream } from '../interface/stream.ts'
import { peerIdFromPublicKey } from '../peer/peer-id.ts'
import { equalBytes } from '../util/bytes.ts'
import { HandshakeError, Libp2pError, UnexpectedPeerError } from '../util/errors.ts'
import { ProtobufReader, ProtobufWriter } from '../util/protobuf.ts'
import { StreamReader, encodeLP } from '../util/stream-reader.ts'

export const PLAINTEXT_PROTOCOL = '/plaintext/2.0.0'
/** Large enough for an 8192-bit RSA key. */
const MAX_EXCHANGE_LENGTH = 16 * 1024

export interface PlaintextComponents {
  privateKey: PrivateKey
  peerId?: PeerId
}

interface Exchange { id: Uint8Array, pubkey: Uint8Array }

export function encodeExchange (exchange: Exchange): Uint8Array {
  return new ProtobufWriter(exchange.id.length + exchange.pubkey.length + 8)
    .bytes(1, exchange.id)
    .bytes(2, exchange.pubkey)
    .finish()
}

export function decodeExchange (bytes: Uint8Array): Exchange {
  const exchange: Exchange = { id: new Uint8Array(0), pubkey: new Uint8Array(0) }
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) exchange.id = r.bytes(wire)
    else if (field === 2) exchange.pubkey = r.bytes(wire)
    else r.skip(wire)
  }
  return exchange
}

export class Plaintext implements ConnectionEncrypter {
  readonly protocol = PLAINTEXT_PROTOCOL
  readonly #publicKey: PublicKey
  readonly #message: Uint8Array

  constructor (components: PlaintextComponents) {
    this.#publicKey = components.privateKey.publicKey
    const peerId = components.peerId ?? peerIdFromPublicKey(this.#publicKey)
    this.#message = encodeLP(encodeExchange({ id: peerId.bytes, pubkey: this.#publicKey.toProtobuf() }))
  }

  async secureOutbound (conn: ByteStream, options?: SecureOptions): Promise<SecuredConnection> {
    return await this.#exchange(conn, options)
  }

  async secureInbound (conn: ByteStream, options?: SecureOptions): Promise<SecuredConnection> {
    return await this.#exchange(conn, options)
  }

  async #exchange (conn: ByteStream, options: SecureOptions = {}): Promise<SecuredConnection> {
    const reader = new StreamReader(conn)
    try {
      // Both sides send first, so a write that waits for drain must not block the read.
      const writing = conn.write(this.#message, { signal: options.signal })
      writing.catch(() => {})
      const body = await reader.readLP({ maxLength: MAX_EXCHANGE_LENGTH, signal: options.signal })
      if (body === null) throw new HandshakeError('the connection ended before the plaintext exchange')
      await writing
      const exchange = decodeExchange(body)
      let remotePublicKey: PublicKey
      try {
        remotePublicKey = publicKeyFromProtobuf(exchange.pubkey)
      } catch (err) {
        throw new HandshakeError('the remote sent an invalid public key', { cause: err })
      }
      const remotePeer = peerIdFromPublicKey(remotePublicKey)
      if (!equalBytes(remotePeer.bytes, exchange.id)) throw new HandshakeError('the remote peer id does not match its public key')
      if (options.remotePeer !== undefined && !options.remotePeer.equals(remotePeer)) {
        throw new UnexpectedPeerError(`dialed ${options.remotePeer.toString()} but the remote is ${remotePeer.toString()}`)
      }
      return { conn, remotePeer, remotePublicKey }
    } catch (err) {
      const error = err instanceof Libp2pError || options.signal?.aborted === true
        ? err as Error
        : new HandshakeError('plaintext exchange failed', { cause: err })
      conn.abort(error)
      throw error
    } finally {
      reader.release()
    }
  }
}

/** The `/plaintext/2.0.0` encrypter factory. */
export function plaintext (): (components: PlaintextComponents) => Plaintext {
  return (components) => new Plaintext(components)
}
