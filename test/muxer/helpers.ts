/**
 * Shared helpers for the muxer tests: a connected muxer pair over an in-memory duplex pair,
 * an inbox of incoming streams, echo / read-all helpers and deterministic test data.
 */
import type { StreamMuxer, StreamMuxerFactory } from '../../src/interface/muxer.ts'
import type { ByteStream, Stream } from '../../src/interface/stream.ts'
import { concatBytes } from '../../src/util/bytes.ts'
import { duplexPair } from '../../src/util/duplex-pair.ts'
import type { PipeEnd } from '../../src/util/duplex-pair.ts'
import { seededBytes } from '../support/random.ts'

/** Incoming streams, in arrival order. */
export class Inbox {
  readonly #streams: Stream[] = []
  readonly #waiters: Array<(s: Stream) => void> = []
  count = 0

  push = (s: Stream): void => {
    this.count++
    const w = this.#waiters.shift()
    if (w !== undefined) w(s)
    else this.#streams.push(s)
  }

  next (): Promise<Stream> {
    const s = this.#streams.shift()
    if (s !== undefined) return Promise.resolve(s)
    return new Promise(resolve => { this.#waiters.push(resolve) })
  }
}

export interface Side {
  muxer: StreamMuxer
  conn: PipeEnd
  inbox: Inbox
  /** Resolves with the onClose argument (fires once). */
  onClose: Promise<Error | undefined>
  onCloseCalls: number
}

export function createSide (factory: StreamMuxerFactory, conn: ByteStream & PipeEnd, direction: 'inbound' | 'outbound', handler?: (s: Stream) => void): Side {
  const inbox = new Inbox()
  let resolveClose!: (err: Error | undefined) => void
  const side: Side = {
    muxer: undefined as unknown as StreamMuxer,
    conn,
    inbox,
    onClose: new Promise(resolve => { resolveClose = resolve }),
    onCloseCalls: 0
  }
  side.muxer = factory.createStreamMuxer(conn, {
    direction,
    onIncomingStream: handler ?? inbox.push,
    onClose: (err) => { side.onCloseCalls++; resolveClose(err) }
  })
  return side
}

export interface PairOptions {
  clientHandler?: (s: Stream) => void
  serverHandler?: (s: Stream) => void
  highWaterMark?: number
}

/** client = outbound side, server = inbound side, connected in memory. */
export function createPair (clientFactory: StreamMuxerFactory, serverFactory: StreamMuxerFactory = clientFactory, options: PairOptions = {}): { client: Side, server: Side } {
  const [a, b] = duplexPair({ highWaterMark: options.highWaterMark })
  return {
    client: createSide(clientFactory, a, 'outbound', options.clientHandler),
    server: createSide(serverFactory, b, 'inbound', options.serverHandler)
  }
}

/** Echoes everything back, then half-closes. Errors end the echo quietly. */
export function echo (s: ByteStream): void {
  void (async () => {
    try {
      for await (const chunk of s) await s.write(chunk)
      await s.closeWrite()
    } catch {}
  })()
}

export async function readAll (s: ByteStream): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of s) chunks.push(chunk)
  return concatBytes(chunks)
}

/** Writes `data` in `chunkSize` pieces, honouring backpressure, then half-closes. */
export async function writeAll (s: ByteStream, data: Uint8Array, chunkSize: number = 64 * 1024, close: boolean = true): Promise<void> {
  for (let i = 0; i < data.length; i += chunkSize) await s.write(data.subarray(i, Math.min(i + chunkSize, data.length)))
  if (close) await s.closeWrite()
}

/** Deterministic pseudo-random bytes, different per seed. */
export const testData = seededBytes

/**
 * Lets every queued callback run: in-memory pipes have no I/O, so once a few macrotask turns
 * pass with nothing progressing, whatever is still pending is truly blocked.
 */
export async function settle (turns: number = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise(resolve => setImmediate(resolve))
}

/** Resolves to 'pending' if the promise has not settled after `settle()`. */
export async function stateAfterSettling (p: Promise<unknown>): Promise<'resolved' | 'rejected' | 'pending'> {
  let state: 'resolved' | 'rejected' | 'pending' = 'pending'
  p.then(() => { state = 'resolved' }, () => { state = 'rejected' })
  await settle()
  return state
}
