/**
 * WebTransport in Node (chosen by the package.json `#webtransport-runtime` import): listening
 * (listener.node.ts) and dialing (dialer.node.ts) over our QUIC. Dials go out from one
 * dial-only UDP socket per address family, opened on first use and closed with the transport.
 */
import type { PrivateKey } from '../../interface/keys.ts'
import type { ConnectionEncrypter } from '../../interface/security.ts'
import { noiseOf } from './noise.ts'
import type { PeerId } from '../../interface/peer-id.ts'
import type { Listener, ListenerInit, RawConnection } from '../../interface/transport.ts'
import { QuicEndpoint } from '../quic/endpoint.ts'
import type { QuicConnection } from '../quic/connection.ts'
import { QUIC_TLS_CRYPTO } from '../quic/index.ts'
import type { Http3Connection } from './http3-connection.node.ts'
import { dialWebTransport } from './dialer.node.ts'
import { WebTransportListener } from './listener.node.ts'
import { CertificateSet } from './certificates.node.ts'
import type { WebTransportTarget } from './address.ts'
import type { WebTransportOptions } from './options.ts'
import { h3QuicConfig } from './options.ts'

export const canListen = true

export class WebTransportRuntime {
  readonly #privateKey: PrivateKey
  readonly #encrypters: readonly ConnectionEncrypter[] | undefined
  readonly #options: WebTransportOptions
  readonly #h3 = new WeakMap<QuicConnection, Http3Connection>()
  readonly #dialEndpoints = new Map<4 | 6, Promise<QuicEndpoint>>()
  readonly #listeners = new Set<WebTransportListener>()
  /** One pair of certificates for all listeners (and one writer of `certificateFile`). */
  #certificates: CertificateSet | undefined

  constructor (privateKey: PrivateKey, encrypters: readonly ConnectionEncrypter[] | undefined, options: WebTransportOptions) {
    this.#privateKey = privateKey
    this.#encrypters = encrypters
    this.#options = options
  }

  async dial (target: WebTransportTarget, expectedPeer: PeerId | undefined, signal: AbortSignal): Promise<RawConnection> {
    const endpoint = await this.#dialEndpoint(target.family)
    return await dialWebTransport({
      endpoint,
      privateKey: this.#privateKey,
      noise: noiseOf(this.#encrypters),
      register: (connection, h3) => { this.#h3.set(connection, h3) },
      now: this.#options.now ?? Date.now
    }, target, expectedPeer, signal)
  }

  async #dialEndpoint (family: 4 | 6): Promise<QuicEndpoint> {
    let endpoint = this.#dialEndpoints.get(family)
    if (endpoint === undefined) {
      endpoint = (async () => {
        const e = new QuicEndpoint(family, {
          privateKey: this.#privateKey,
          crypto: QUIC_TLS_CRYPTO,
          config: h3QuicConfig(this.#options.quic),
          onIncomingStream: (connection, stream) => {
            const h3 = this.#h3.get(connection)
            if (h3 === undefined) stream.abort(new Error('stream on a connection without HTTP/3'))
            else h3.onIncomingStream(stream)
          }
        })
        await e.bind(family === 6 ? '::' : '0.0.0.0', 0)
        return e
      })()
      this.#dialEndpoints.set(family, endpoint)
      endpoint.catch(() => { this.#dialEndpoints.delete(family) })
    }
    const e = await endpoint
    if (e.closed) {
      this.#dialEndpoints.delete(family)
      return await this.#dialEndpoint(family)
    }
    return e
  }

  createListener (init: ListenerInit): Listener & { certhashes: Uint8Array[] } {
    this.#certificates ??= new CertificateSet({ file: this.#options.certificateFile, now: this.#options.now })
    const listener = new WebTransportListener(this.#privateKey, () => noiseOf(this.#encrypters), this.#certificates, this.#options, init, endpoint => {
      if (endpoint === undefined) this.#listeners.delete(listener)
      else this.#listeners.add(listener)
    })
    return listener
  }

  /** QUIC connections on every socket of this transport. */
  get connectionCount (): number {
    let n = 0
    for (const l of this.#listeners) n += l.endpoint?.connectionCount ?? 0
    return n
  }

  async close (): Promise<void> {
    const dialers = [...this.#dialEndpoints.values()]
    this.#dialEndpoints.clear()
    for (const listener of [...this.#listeners]) await listener.close()
    await Promise.all(dialers.map(async p => { await (await p).close() }))
  }
}
