/**
 * Two ByteStreams wired back to back in memory: what one sends, the other reads. Used by unit
 * tests of a single layer and by the in-process memory transport. Each side buffers at most
 * `highWaterMark` unread bytes before its writer sees backpressure, like a socket.
 */
import type { AbortOptions } from '../interface/common.ts'
import { AbstractStream } from './abstract-stream.ts'
import { StreamResetError } from './errors.ts'

export interface DuplexPairOptions {
  /** Unread bytes the receiving side buffers before the sender must drain (default 64 KiB). */
  highWaterMark?: number
}

export class PipeEnd extends AbstractStream {
  peer!: PipeEnd
  readonly highWaterMark: number

  constructor (highWaterMark: number) {
    super()
    this.highWaterMark = highWaterMark
  }

  protected sendChunk (chunk: Uint8Array): boolean {
    this.peer.deliver(chunk)
    return this.peer.readableLength < this.highWaterMark
  }

  /** @internal */
  deliver (chunk: Uint8Array): void { this.pushData(chunk) }
  /** @internal */
  deliverEnd (): void { this.pushEnd() }
  /** @internal */
  deliverReset (err: Error): void { this.pushReset(err) }
  /** @internal */
  wake (): void { this.notifyDrain() }

  protected sendCloseWrite (_options?: AbortOptions): void {
    this.peer.deliverEnd()
  }

  protected sendReset (err: Error): void {
    this.peer.deliverReset(new StreamResetError('the remote end reset the stream', { cause: err }))
  }

  protected override onConsumed (): void {
    if (this.readableLength < this.highWaterMark) this.peer.wake()
  }
}

export function duplexPair (options: DuplexPairOptions = {}): [PipeEnd, PipeEnd] {
  const hwm = options.highWaterMark ?? 64 * 1024
  const a = new PipeEnd(hwm)
  const b = new PipeEnd(hwm)
  a.peer = b
  b.peer = a
  return [a, b]
}
