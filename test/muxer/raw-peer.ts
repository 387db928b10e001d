/**
 * A scripted peer that speaks raw frames to a muxer under test: it reads and writes bytes on
 * one end of an in-memory pipe, so tests can send malformed or hand-crafted frames and check
 * exactly what the muxer puts on the wire.
 */
import type { StreamMuxer, StreamMuxerFactory } from '../../src/interface/muxer.ts'
import { concatBytes } from '../../src/util/bytes.ts'
import { duplexPair } from '../../src/util/duplex-pair.ts'
import type { PipeEnd } from '../../src/util/duplex-pair.ts'
import { decodeVarint, encodeVarint } from '../../src/util/varint.ts'
import { Inbox } from './helpers.ts'

export interface YamuxFrame { type: number, flags: number, streamId: number, length: number, data: Uint8Array }
export interface MplexFrame { id: number, flag: number, data: Uint8Array }

/** Reads whole frames from a byte stream, however the bytes were chunked. */
class ByteBuffer {
  #buf: Uint8Array = new Uint8Array(0)
  readonly #conn: PipeEnd
  constructor (conn: PipeEnd) { this.#conn = conn }

  /** Ensures `n` bytes are buffered; false at end of stream. */
  async fill (n: number): Promise<boolean> {
    while (this.#buf.length < n) {
      const chunk = await this.#conn.read()
      if (chunk === null) return false
      this.#buf = concatBytes([this.#buf, chunk])
    }
    return true
  }

  get bytes (): Uint8Array { return this.#buf }
  take (n: number): Uint8Array {
    const out: Uint8Array = this.#buf.slice(0, n)
    this.#buf = this.#buf.subarray(n)
    return out
  }
}

export class RawPeer {
  readonly conn: PipeEnd
  readonly muxer: StreamMuxer
  readonly inbox = new Inbox()
  readonly onClose: Promise<Error | undefined>
  readonly #in: ByteBuffer

  /** `direction` is the muxer's side; the raw peer plays the other one. */
  constructor (factory: StreamMuxerFactory, direction: 'inbound' | 'outbound' = 'inbound') {
    const [mine, theirs] = duplexPair()
    this.conn = theirs
    this.#in = new ByteBuffer(theirs)
    let resolveClose!: (err: Error | undefined) => void
    this.onClose = new Promise(resolve => { resolveClose = resolve })
    this.muxer = factory.createStreamMuxer(mine, { direction, onIncomingStream: this.inbox.push, onClose: resolveClose })
  }

  send (bytes: Uint8Array): void { this.conn.send(bytes) }

  // ---- yamux ----

  sendYamux (type: number, flags: number, streamId: number, length: number, data?: Uint8Array): void {
    this.send(yamuxFrame(type, flags, streamId, length, data))
  }

  /** The next frame, or null at end of stream. */
  async readYamux (): Promise<YamuxFrame | null> {
    if (!await this.#in.fill(12)) return null
    const h = this.#in.bytes
    const dv = new DataView(h.buffer, h.byteOffset, 12)
    const frame: YamuxFrame = { type: h[1], flags: dv.getUint16(2), streamId: dv.getUint32(4), length: dv.getUint32(8), data: new Uint8Array(0) }
    this.#in.take(12)
    if (frame.type === 0 && frame.length > 0) {
      if (!await this.#in.fill(frame.length)) return null
      frame.data = this.#in.take(frame.length)
    }
    return frame
  }

  /** Reads frames until one matches (skipping e.g. the muxer's RTT ping). */
  async expectYamux (match: (f: YamuxFrame) => boolean): Promise<YamuxFrame> {
    for (;;) {
      const f = await this.readYamux()
      if (f === null) throw new Error('stream ended before the expected frame')
      if (match(f)) return f
    }
  }

  // ---- mplex ----

  sendMplex (id: number, flag: number, data: Uint8Array = new Uint8Array(0)): void {
    this.send(mplexFrame(id, flag, data))
  }

  async readMplex (): Promise<MplexFrame | null> {
    for (let n = 1; ; n++) {
      if (!await this.#in.fill(n)) return null
      const first = decodeVarint(this.#in.bytes)
      if (first === undefined) continue
      const second = decodeVarint(this.#in.bytes, first[1])
      if (second === undefined) continue
      const headerLength = first[1] + second[1]
      if (!await this.#in.fill(headerLength + second[0])) return null
      this.#in.take(headerLength)
      return { id: Math.floor(first[0] / 8), flag: first[0] % 8, data: this.#in.take(second[0]) }
    }
  }

  async expectMplex (match: (f: MplexFrame) => boolean): Promise<MplexFrame> {
    for (;;) {
      const f = await this.readMplex()
      if (f === null) throw new Error('stream ended before the expected frame')
      if (match(f)) return f
    }
  }

  /** Reads until the muxer closes the connection. */
  async drainToEnd (): Promise<void> {
    for (;;) if (await this.conn.read() === null) return
  }
}

export function yamuxFrame (type: number, flags: number, streamId: number, length: number, data?: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + (data?.length ?? 0))
  const dv = new DataView(out.buffer)
  dv.setUint8(0, 0)
  dv.setUint8(1, type)
  dv.setUint16(2, flags)
  dv.setUint32(4, streamId)
  dv.setUint32(8, length)
  if (data !== undefined) out.set(data, 12)
  return out
}

export function mplexFrame (id: number, flag: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  return concatBytes([encodeVarint(id * 8 + flag), encodeVarint(data.length), data])
}
