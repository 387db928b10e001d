/**
 * What yamux and mplex streams have in common on top of AbstractStream: the Stream fields
 * (id, direction, protocol, metadata) and the two calls the muxer makes into every stream when
 * the connection goes away or can take data again.
 */
import type { Direction } from '../interface/common.ts'
import type { Stream } from '../interface/stream.ts'
import { AbstractStream } from '../util/abstract-stream.ts'

export abstract class MuxedStream extends AbstractStream implements Stream {
  readonly id: string
  readonly direction: Direction
  protocol = ''
  readonly metadata: Record<string, unknown> = {}

  constructor (id: string, direction: Direction) {
    super()
    this.id = id
    this.direction = direction
  }

  /**
   * The connection is gone. When it ended cleanly and the remote had already finished writing,
   * the bytes still queued for reading stay readable (a reset would drop them); otherwise the
   * stream fails with `err`.
   */
  connectionLost (err: Error, cleanEnd: boolean): void {
    this.dropOutgoing()
    if (cleanEnd && this.remoteEnded) {
      this.markWriteClosed()
    } else {
      this.pushReset(err)
    }
  }

  /** True once the remote signalled end-of-stream (its data may still be unread). */
  get remoteFinished (): boolean { return this.remoteEnded }

  /** The connection can take data again: send what waits and wake the writer. */
  abstract resumeSending (): void

  /** Forgets outgoing bytes that were not handed to the muxer yet. */
  protected abstract dropOutgoing (): void
}
