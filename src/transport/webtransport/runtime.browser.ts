/**
 * WebTransport in browsers (chosen by the package.json `#webtransport-runtime` import): dials
 * with the native `WebTransport` and `serverCertificateHashes` (the address's certhashes), then
 * runs Noise (initiator) on the first stream. A browser cannot tell which certificate the server
 * used, so every hash it expected must be in the server's `webtransport_certhashes` (Noise
 * extension). No listening. No Node built-ins here.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions, Direction } from '../../interface/common.ts'
import type { PrivateKey } from '../../interface/keys.ts'
import type { PeerId } from '../../interface/peer-id.ts'
import type { Stream } from '../../interface/stream.ts'
import type { StreamMuxer, StreamMuxerFactory, StreamMuxerInit } from '../../interface/muxer.ts'
import type { Listener, NativeUpgrade, RawConnection } from '../../interface/transport.ts'
import { AbstractStream } from '../../util/abstract-stream.ts'
import { ConnectionFailedError, InvalidParametersError, LimitExceededError, StreamClosedError, UnsupportedProtocolError } from '../../util/errors.ts'
import { raceSignal } from '../../util/abort.ts'
import type { ConnectionEncrypter } from '../../interface/security.ts'
import { endHandshakeStream, noiseOf, secureWithCerthashes } from './noise.ts'
import { BrowserWebTransportStream } from './browser-stream.ts'
import { sessionUrl, toWebTransportMultiaddr } from './address.ts'
import type { WebTransportTarget } from './address.ts'
import { bytesEqual, SHA2_256 } from '../certhash.ts'
import { CertificateHashMismatchError } from './errors.ts'
import type { WebTransportOptions } from './options.ts'

export const canListen = false
/** Incoming streams held before the upgrader attached the muxer. */
const MAX_PENDING_STREAMS = 64

export class WebTransportRuntime {
  readonly #encrypters: readonly ConnectionEncrypter[] | undefined
  readonly #sessions = new Set<BrowserSessionConnection>()

  constructor (_privateKey: PrivateKey, encrypters: readonly ConnectionEncrypter[] | undefined, _options: WebTransportOptions) {
    this.#encrypters = encrypters
  }

  async dial (target: WebTransportTarget, expectedPeer: PeerId | undefined, signal: AbortSignal): Promise<RawConnection> {
    if (typeof globalThis.WebTransport !== 'function') throw new UnsupportedProtocolError('this browser has no WebTransport')
    const noise = noiseOf(this.#encrypters)
    const wt = new WebTransport(sessionUrl(target), {
      serverCertificateHashes: target.certhashes.map(value => ({ algorithm: 'sha-256', value: value.slice() }))
    })
    const onAbort = (): void => { wt.close() }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      try {
        await raceSignal(wt.ready, signal)
      } catch (err) {
        throw new ConnectionFailedError(`WebTransport session to ${sessionUrl(target)} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err })
      }
      const noiseStream = new BrowserWebTransportStream(await raceSignal(wt.createBidirectionalStream(), signal), 'outbound')
      const secured = await secureWithCerthashes(noise, noiseStream, true, { remotePeer: expectedPeer, signal })
      const listed = secured.remoteExtensions?.webtransportCerthashes ?? []
      for (const hash of target.certhashes) {
        const multihash = Uint8Array.of(SHA2_256, hash.length, ...hash)
        if (!listed.some(h => bytesEqual(h, multihash))) throw new CertificateHashMismatchError('the server\'s Noise handshake does not list every certhash of the address')
      }
      void endHandshakeStream(secured.conn)
      const session = new BrowserSessionConnection(wt, secured.remotePeer, toWebTransportMultiaddr(target.host, target.port, target.family, target.certhashes))
      this.#sessions.add(session)
      void session.closed.then(() => { this.#sessions.delete(session) })
      return session
    } catch (err) {
      wt.close()
      throw err
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  createListener (): Listener {
    throw new UnsupportedProtocolError('browsers cannot listen for WebTransport')
  }

  get connectionCount (): number { return this.#sessions.size }

  async close (): Promise<void> {
    for (const s of this.#sessions) s.abort(new StreamClosedError('the transport closed'))
  }
}

/** A browser WebTransport session as the switch takes it (see session-connection.node.ts). */
class BrowserSessionConnection extends AbstractStream implements RawConnection, StreamMuxer, StreamMuxerFactory {
  readonly remoteAddr: Multiaddr
  readonly localAddr?: Multiaddr = multiaddr('/ip4/0.0.0.0/udp/0/quic-v1/webtransport')
  readonly direction: Direction = 'outbound'
  readonly native: NativeUpgrade
  readonly protocol = '/webtransport'
  readonly #wt: WebTransport
  readonly #open = new Set<BrowserWebTransportStream>()
  #pending: BrowserWebTransportStream[] = []
  #init: StreamMuxerInit | undefined
  #ended = false

  constructor (wt: WebTransport, remotePeer: PeerId, remoteAddr: Multiaddr) {
    super()
    this.#wt = wt
    this.remoteAddr = remoteAddr
    this.native = { remotePeer, encryption: '/noise', streamMuxer: this }
    void this.#acceptStreams()
    wt.closed.then(() => { this.#onEnded(undefined) }, err => { this.#onEnded(err as Error) })
  }

  async #acceptStreams (): Promise<void> {
    const reader = this.#wt.incomingBidirectionalStreams.getReader()
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        const stream = this.#track(new BrowserWebTransportStream(value, 'inbound'))
        if (this.#init !== undefined) this.#init.onIncomingStream(stream)
        else if (this.#pending.length < MAX_PENDING_STREAMS) this.#pending.push(stream)
        else stream.abort(new LimitExceededError('too many streams opened before the connection was set up'))
      }
    } catch {
      // The session ended; #onEnded reports it.
    }
  }

  #track (stream: BrowserWebTransportStream): BrowserWebTransportStream {
    this.#open.add(stream)
    void stream.closed.then(() => { this.#open.delete(stream) })
    return stream
  }

  createStreamMuxer (_conn: unknown, init: StreamMuxerInit): StreamMuxer {
    if (this.#init !== undefined) throw new InvalidParametersError('the WebTransport session already has its muxer')
    this.#init = init
    for (const s of this.#pending.splice(0)) init.onIncomingStream(s)
    return this
  }

  get streams (): readonly Stream[] { return [...this.#open] }

  async newStream (options?: AbortOptions): Promise<Stream> {
    if (this.#ended) throw new StreamClosedError('the WebTransport session is closed')
    return this.#track(new BrowserWebTransportStream(await raceSignal(this.#wt.createBidirectionalStream(), options?.signal), 'outbound'))
  }

  override async close (options?: AbortOptions): Promise<void> {
    const open = [...this.#open]
    for (const s of open) void s.closeWrite(options).catch(() => {})
    try {
      await raceSignal(Promise.all(open.map(async s => { await s.closed })), options?.signal)
    } catch {}
    this.#wt.close()
  }

  protected sendChunk (_chunk: Uint8Array): boolean {
    throw new StreamClosedError('a WebTransport session carries data on its streams only')
  }

  protected sendCloseWrite (): void {}

  protected sendReset (): void { this.#wt.close() }

  #onEnded (err: Error | undefined): void {
    if (this.#ended) return
    this.#ended = true
    for (const s of this.#pending.splice(0)) s.abort(err ?? new StreamClosedError('the WebTransport session closed'))
    this.markWriteClosed()
    this.pushEnd()
    this.#init?.onClose?.(err)
  }
}
