/**
 * A browser WebTransport bidirectional stream (WHATWG streams) as the project's byte-stream
 * contract. A STOP_SENDING from the remote errors the browser's writable: that ends our write
 * side only (as in QUIC), it does not reset the stream. Reading pulls from the ReadableStream one chunk per `read()` the consumer makes,
 * so the browser's own flow control holds back a slow reader; writing queues on the
 * WritableStream and reports backpressure from its `desiredSize`. Browser-safe.
 */
import type { Stream } from '../../interface/stream.ts'
import { AbstractStream } from '../../util/abstract-stream.ts'
import { StreamResetError } from '../../util/errors.ts'

/** Bytes queued in the browser's writer before `send()` reports backpressure. */
const WRITE_HIGH_WATER_MARK = 256 * 1024

let nextId = 0

export class BrowserWebTransportStream extends AbstractStream implements Stream {
  readonly id: string
  readonly direction: 'inbound' | 'outbound'
  protocol = ''
  readonly metadata: Record<string, unknown> = {}
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>
  #queued = 0
  #reading = false

  constructor (stream: WebTransportBidirectionalStream, direction: 'inbound' | 'outbound') {
    super()
    this.id = `wt-${nextId++}`
    this.direction = direction
    this.#reader = stream.readable.getReader() as ReadableStreamDefaultReader<Uint8Array>
    this.#writer = stream.writable.getWriter()
    this.#pump()
  }

  /** Reads the browser stream into the queue, one chunk at a time, until it ends. */
  #pump (): void {
    if (this.#reading) return
    this.#reading = true
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await this.#reader.read()
          if (done) { this.pushEnd(); return }
          if (value !== undefined && value.length > 0) this.pushData(value)
          // Stop pulling while the consumer has a backlog: the browser then stops granting
          // the sender credit. `onConsumed` resumes.
          if (this.readableLength > WRITE_HIGH_WATER_MARK) { this.#reading = false; return }
        }
      } catch (err) {
        this.pushReset(new StreamResetError(`the WebTransport stream failed: ${(err as Error)?.message ?? String(err)}`))
      }
    })()
  }

  protected override onConsumed (_bytes: number): void {
    if (!this.#reading && this.readStatus === 'open' && this.readableLength <= WRITE_HIGH_WATER_MARK / 2) this.#pump()
  }

  protected sendChunk (chunk: Uint8Array): boolean {
    this.#queued += chunk.length
    this.#writer.write(chunk).then(() => {
      this.#queued -= chunk.length
      if (this.writeBlocked && this.#queued < WRITE_HIGH_WATER_MARK / 2) this.notifyDrain()
    }, () => {
      // The remote asked us to stop sending (STOP_SENDING) or reset: our write side is over,
      // reading goes on until the remote's side ends.
      this.markWriteClosed()
    })
    return this.#queued < WRITE_HIGH_WATER_MARK
  }

  protected async sendCloseWrite (): Promise<void> {
    // After a STOP_SENDING the writable is errored: there is nothing left to end.
    await this.#writer.close().catch(() => {})
  }

  protected sendReset (err: Error): void {
    void this.#writer.abort(err).catch(() => {})
    void this.#reader.cancel(err).catch(() => {})
  }

  protected override onReadClosed (): void {
    void this.#reader.cancel().catch(() => {})
  }
}
