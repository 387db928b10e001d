/**
 * Test doubles for the switch: a tiny frame muxer and a trivial "encrypter" that runs over any
 * ByteStream, fake transports built on duplex pairs, and helpers to make peer ids. Good enough
 * to exercise the upgrader, connections and the connection manager without the real layers.
 */
import type { AbortOptions } from '../../src/interface/common.ts'
import type { StreamMuxer, StreamMuxerFactory, StreamMuxerInit } from '../../src/interface/muxer.ts'
import type { PeerId } from '../../src/interface/peer-id.ts'
import type { ConnectionEncrypter, SecureOptions, SecuredConnection } from '../../src/interface/security.ts'
import type { ByteStream, Stream } from '../../src/interface/stream.ts'
import { generateKeyPair } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey, peerIdFromString } from '../../src/peer/peer-id.ts'
import { AbstractStream } from '../../src/util/abstract-stream.ts'
import { duplexPair } from '../../src/util/duplex-pair.ts'
import { ConnectionFailedError, StreamResetError, UnexpectedEOFError } from '../../src/util/errors.ts'
import { readLP, writeLP } from '../../src/util/stream-reader.ts'
import { utf8Decode, utf8Encode } from '../../src/util/bytes.ts'
import type { PrivateKey } from '../../src/interface/keys.ts'

export async function makePeer (): Promise<{ privateKey: PrivateKey, peerId: PeerId }> {
  const privateKey = await generateKeyPair('Ed25519')
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey) }
}

// ---- an "encrypter" that only exchanges peer ids ------------------------------------------

export function fakeEncrypter (self: PeerId, protocol = '/fake-secure/1.0.0', options: { streamMuxer?: string, hang?: boolean } = {}): ConnectionEncrypter {
  const run = async (conn: ByteStream, opts?: SecureOptions): Promise<SecuredConnection> => {
    if (options.hang === true) await new Promise<never>((_resolve, reject) => { opts?.signal?.addEventListener('abort', () => { reject(opts.signal?.reason) }) })
    await writeLP(conn, utf8Encode(self.toString()), opts)
    const remote = peerIdFromString(utf8Decode(await readLP(conn, { maxLength: 200, signal: opts?.signal })))
    return { conn, remotePeer: remote, remotePublicKey: remote.publicKey!, streamMuxer: options.streamMuxer }
  }
  return { protocol, secureInbound: run, secureOutbound: run }
}

// ---- a minimal frame muxer ----------------------------------------------------------------
// frame: type(1) id(4 BE) length(4 BE) data; types: 0 open, 1 data, 2 end, 3 reset

const OPEN = 0
const DATA = 1
const END = 2
const RESET = 3

class FrameStream extends AbstractStream implements Stream {
  readonly id: string
  readonly direction: 'inbound' | 'outbound'
  protocol = ''
  readonly metadata: Record<string, unknown> = {}
  readonly #muxer: FrameMuxer
  readonly #num: number

  constructor (muxer: FrameMuxer, num: number, direction: 'inbound' | 'outbound') {
    super()
    this.#muxer = muxer
    this.#num = num
    this.id = String(num)
    this.direction = direction
  }

  protected sendChunk (chunk: Uint8Array): boolean { return this.#muxer.sendFrame(DATA, this.#num, chunk) }
  protected sendCloseWrite (): void { this.#muxer.sendFrame(END, this.#num) }
  protected sendReset (): void { this.#muxer.sendFrame(RESET, this.#num) }
  protected override onFinished (): void { this.#muxer.forget(this.#num) }
  deliver (chunk: Uint8Array): void { this.pushData(chunk) }
  deliverEnd (): void { this.pushEnd() }
  deliverReset (err: Error): void { this.pushReset(err) }
}

export class FrameMuxer implements StreamMuxer {
  readonly protocol: string
  readonly #conn: ByteStream
  readonly #init: StreamMuxerInit
  readonly #streams = new Map<number, FrameStream>()
  #next: number
  #closed = false
  readonly closed: Promise<void>
  #resolveClosed!: () => void

  constructor (protocol: string, conn: ByteStream, init: StreamMuxerInit) {
    this.protocol = protocol
    this.#conn = conn
    this.#init = init
    this.#next = init.direction === 'outbound' ? 1 : 2
    this.closed = new Promise(resolve => { this.#resolveClosed = resolve })
    void this.#readLoop()
  }

  get streams (): Stream[] { return [...this.#streams.values()] }

  sendFrame (type: number, num: number, data?: Uint8Array): boolean {
    if (this.#closed) return true
    const frame = new Uint8Array(9 + (data?.length ?? 0))
    const view = new DataView(frame.buffer)
    frame[0] = type
    view.setUint32(1, num)
    view.setUint32(5, data?.length ?? 0)
    if (data !== undefined) frame.set(data, 9)
    try {
      return this.#conn.send(frame)
    } catch {
      return true
    }
  }

  forget (num: number): void { this.#streams.delete(num) }

  newStream (): Stream {
    if (this.#closed) throw new ConnectionFailedError('muxer closed')
    const num = this.#next
    this.#next += 2
    const stream = new FrameStream(this, num, 'outbound')
    this.#streams.set(num, stream)
    this.sendFrame(OPEN, num)
    return stream
  }

  async #readLoop (): Promise<void> {
    let buf = new Uint8Array(0)
    try {
      for (;;) {
        const chunk = await this.#conn.read()
        if (chunk === null) break
        const joined = new Uint8Array(buf.length + chunk.length)
        joined.set(buf)
        joined.set(chunk, buf.length)
        buf = joined
        while (buf.length >= 9) {
          const view = new DataView(buf.buffer, buf.byteOffset)
          const len = view.getUint32(5)
          if (buf.length < 9 + len) break
          this.#onFrame(buf[0], view.getUint32(1), buf.slice(9, 9 + len))
          buf = buf.subarray(9 + len)
        }
      }
      this.#shutdown()
    } catch (err) {
      this.#shutdown(err as Error)
    }
  }

  #onFrame (type: number, num: number, data: Uint8Array): void {
    if (type === OPEN) {
      const stream = new FrameStream(this, num, 'inbound')
      this.#streams.set(num, stream)
      this.#init.onIncomingStream(stream)
      return
    }
    const stream = this.#streams.get(num)
    if (stream === undefined) return
    if (type === DATA) stream.deliver(data)
    else if (type === END) stream.deliverEnd()
    else if (type === RESET) stream.deliverReset(new StreamResetError())
  }

  #shutdown (err?: Error): void {
    if (this.#closed) return
    this.#closed = true
    for (const s of this.#streams.values()) s.deliverReset(err ?? new UnexpectedEOFError('connection closed'))
    this.#streams.clear()
    this.#conn.abort(err ?? new UnexpectedEOFError('connection closed'))
    this.#init.onClose?.(err)
    this.#resolveClosed()
  }

  async close (options?: AbortOptions): Promise<void> {
    if (this.#closed) return
    await Promise.all(this.streams.map(async s => { await s.close(options).catch(() => {}) }))
    await this.#conn.close(options)
    await this.closed
  }

  abort (err: Error): void {
    this.#conn.abort(err)
    this.#shutdown(err)
  }
}

export function frameMuxer (protocol = '/frame/1.0.0'): StreamMuxerFactory {
  return { protocol, createStreamMuxer: (conn, init) => new FrameMuxer(protocol, conn, init) }
}

export { duplexPair }

/** Resolves once `condition()` holds; rejects after `timeoutMs` so a broken test fails, not hangs. */
export async function waitFor (condition: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const started = Date.now()
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setImmediate(resolve))
  }
}

