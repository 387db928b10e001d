/**
 * Noise (`/noise`): the default libp2p connection encrypter, Noise_XX_25519_ChaChaPoly_SHA256
 * with the libp2p identity payload (see specs noise/README.md).
 *
 * ```ts
 * import { noise } from 'ts-libp2p/noise'
 * const node = await createLibp2p({ connectionEncrypters: [noise()] })
 * // or on its own, over a raw connection:
 * const encrypter = noise()({ privateKey })
 * const { conn, remotePeer, streamMuxer } = await encrypter.secureOutbound(raw, { remotePeer })
 * ```
 *
 * One static X25519 key is generated per encrypter (the spec allows reuse across sessions) and
 * its identity signature is computed once, so a handshake costs three DH-pairs and one
 * signature verification. The identity signature and the first handshake's ephemeral key are
 * made with the encrypter; the ephemeral key of each next handshake is generated while this one
 * waits for the remote, which takes key generation off the connection's critical path. When `streamMuxers` are given (per call or in `extensions`) they are
 * offered through the handshake and the agreed muxer is returned as `streamMuxer`.
 */
import { noiseCrypto as defaultCrypto } from '#noise-crypto'
import type { PrivateKey, PublicKey } from '../../interface/keys.ts'
import type { PeerId } from '../../interface/peer-id.ts'
import type { ConnectionEncrypter, SecureOptions, SecuredConnection } from '../../interface/security.ts'
import type { ByteStream } from '../../interface/stream.ts'
import type { NoiseCrypto, X25519KeyPair } from './crypto.ts'
import { performHandshake, signStaticKey } from './handshake.ts'
import { NoiseConnection } from './noise-connection.ts'
import type { NoiseExtensions } from './payload.ts'
import { runOnNextTurn } from '../../util/timers.ts'

export { NoiseConnection, MAX_FRAME_LENGTH, MAX_PLAINTEXT_LENGTH } from './noise-connection.ts'
export type { NoiseExtensions } from './payload.ts'
export type { NoiseCrypto } from './crypto.ts'

export const NOISE_PROTOCOL = '/noise'

export interface NoiseInit {
  /** A 32-byte X25519 private key to use as the static key instead of a generated one. */
  staticNoiseKey?: Uint8Array
  /** Extensions sent in every handshake; `SecureOptions.streamMuxers` overrides the muxers. */
  extensions?: Partial<NoiseExtensions>
  /** Prologue bound into the handshake hash (empty for TCP/WebSockets; WebRTC sets one). */
  prologue?: Uint8Array
  /** Replaces the runtime's crypto backend (tests cross-check the two backends). */
  crypto?: NoiseCrypto
  /** Decrypted bytes buffered per connection before reading from the socket pauses. */
  highWaterMark?: number
}

export interface NoiseComponents {
  privateKey: PrivateKey
  peerId?: PeerId
}

export interface NoiseSecureOptions extends SecureOptions {
  /** Per-connection prologue (WebRTC Direct binds the certificate fingerprints here). */
  prologue?: Uint8Array
  /** Per-connection extensions (a WebTransport listener sends its current certhashes). */
  extensions?: Partial<NoiseExtensions>
}

export interface NoiseSecuredConnection extends SecuredConnection {
  conn: NoiseConnection
  /** Extensions the remote sent (e.g. WebTransport certificate hashes). */
  remoteExtensions?: NoiseExtensions
  /** The handshake hash: unique per session, usable for channel binding. */
  handshakeHash: Uint8Array
}

export class Noise implements ConnectionEncrypter {
  readonly protocol = NOISE_PROTOCOL
  readonly #privateKey: PrivateKey
  readonly #crypto: NoiseCrypto
  readonly #staticKeyPair: X25519KeyPair
  readonly #init: NoiseInit
  #identitySig: Promise<Uint8Array> | undefined
  /** A fresh ephemeral key pair for the next handshake; taken (and cleared) by exactly one. */
  #spareEphemeral: X25519KeyPair | undefined
  #spareScheduled = false
  readonly #generateSpare = (): void => {
    this.#spareScheduled = false
    this.#spareEphemeral ??= this.#crypto.generateX25519KeyPair()
  }
  readonly #onWaiting = (): void => {
    if (this.#spareEphemeral !== undefined || this.#spareScheduled) return
    this.#spareScheduled = true
    // Queued behind the transport's own flush of the message just written.
    runOnNextTurn(this.#generateSpare)
  }

  constructor (components: NoiseComponents, init: NoiseInit = {}) {
    this.#privateKey = components.privateKey
    this.#crypto = init.crypto ?? defaultCrypto
    this.#init = init
    this.#staticKeyPair = init.staticNoiseKey !== undefined
      ? this.#crypto.x25519KeyPairFromPrivateKey(init.staticNoiseKey)
      : this.#crypto.generateX25519KeyPair()
    // Work the first handshake would otherwise wait for, done while the node is being made: a
    // fresh process usually dials right away (the perf contract's cold first connection), and
    // neither needs anything from the connection.
    void this.#signStaticKey()
    this.#spareEphemeral = this.#crypto.generateX25519KeyPair()
  }

  #signStaticKey (): Promise<Uint8Array> {
    const signature = signStaticKey(this.#privateKey, this.#staticKeyPair.publicKey)
    this.#identitySig = signature
    // a failed signature is made again by the next handshake
    signature.catch(() => { if (this.#identitySig === signature) this.#identitySig = undefined })
    return signature
  }

  get staticPublicKey (): Uint8Array { return this.#staticKeyPair.publicKey }

  async secureOutbound (conn: ByteStream, options?: NoiseSecureOptions): Promise<NoiseSecuredConnection> {
    return await this.#secure(conn, true, options)
  }

  async secureInbound (conn: ByteStream, options?: NoiseSecureOptions): Promise<NoiseSecuredConnection> {
    return await this.#secure(conn, false, options)
  }

  async #secure (conn: ByteStream, initiator: boolean, options: NoiseSecureOptions = {}): Promise<NoiseSecuredConnection> {
    const identitySig = this.#identitySig ?? this.#signStaticKey()
    const ephemeralKeyPair = this.#spareEphemeral
    this.#spareEphemeral = undefined
    const result = await performHandshake(conn, {
      crypto: this.#crypto,
      initiator,
      staticKeyPair: this.#staticKeyPair,
      identityKey: this.#privateKey,
      identitySig: await identitySig,
      prologue: options.prologue ?? this.#init.prologue,
      extensions: {
        webtransportCerthashes: options.extensions?.webtransportCerthashes ?? this.#init.extensions?.webtransportCerthashes ?? [],
        streamMuxers: options.streamMuxers ?? this.#init.extensions?.streamMuxers ?? []
      },
      remotePeer: options.remotePeer,
      signal: options.signal,
      ephemeralKeyPair,
      onWaiting: this.#onWaiting
    })
    const secured: NoiseSecuredConnection = {
      conn: new NoiseConnection(conn, result.send, result.receive, { highWaterMark: this.#init.highWaterMark }),
      remotePeer: result.remotePeer,
      remotePublicKey: result.remotePublicKey as PublicKey,
      remoteExtensions: result.remoteExtensions,
      handshakeHash: result.handshakeHash
    }
    if (result.streamMuxer !== undefined) secured.streamMuxer = result.streamMuxer
    return secured
  }
}

/** The `/noise` connection encrypter factory. */
export function noise (init: NoiseInit = {}): (components: NoiseComponents) => Noise {
  return (components) => new Noise(components, init)
}
