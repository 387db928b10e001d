/**
 * The benchmark's own tiny application protocols, identical on every side:
 *
 * - transfer (`/ts-libp2p-bench/transfer/1.0.0`): the client sends a 16-byte header, two
 *   big-endian u64 (bytes it will upload, bytes it wants back), then its upload bytes, then
 *   half-closes. The server counts and discards the upload until end-of-stream, resets the
 *   stream if the count is wrong, then sends the requested bytes and closes. An upload is
 *   timed until the server's end-of-stream arrives, so every byte is known to have arrived.
 * - echo (`/ts-libp2p-bench/echo/1.0.0`): every byte is sent back; end-of-stream is mirrored.
 *
 * The raw TCP reference has no protocol negotiation, so its connections start with one mode
 * byte instead (RAW_MODE_*).
 */
import { randomBytes } from 'node:crypto'

export const TRANSFER_PROTOCOL = '/ts-libp2p-bench/transfer/1.0.0'
export const ECHO_PROTOCOL = '/ts-libp2p-bench/echo/1.0.0'
export const HEADER_LENGTH = 16
export const RAW_MODE_TRANSFER = 0x54
export const RAW_MODE_ECHO = 0x45
/** Streams of one protocol per connection the peers accept (the concurrency test needs 100). */
export const MAX_STREAMS = 1024
/** The largest transfer a client may ask for (a bad header must not start an endless send). */
export const MAX_TRANSFER_BYTES = 64 * 2 ** 30

export function encodeHeader (uploadBytes: number, downloadBytes: number): Uint8Array {
  const header = new Uint8Array(HEADER_LENGTH)
  const view = new DataView(header.buffer)
  view.setBigUint64(0, BigInt(uploadBytes))
  view.setBigUint64(8, BigInt(downloadBytes))
  return header
}

/**
 * The server side of a transfer stream: parses the header out of the first chunk(s), counts
 * the upload after it, and checks at end-of-stream that the upload was complete.
 */
export class TransferReceiver {
  readonly #header = new Uint8Array(HEADER_LENGTH)
  #filled = 0
  uploadBytes = -1
  downloadBytes = -1
  received = 0

  feed (chunk: Uint8Array): void {
    if (this.#filled < HEADER_LENGTH) {
      const take = Math.min(HEADER_LENGTH - this.#filled, chunk.length)
      this.#header.set(chunk.subarray(0, take), this.#filled)
      this.#filled += take
      if (this.#filled === HEADER_LENGTH) {
        const view = new DataView(this.#header.buffer)
        this.uploadBytes = Number(view.getBigUint64(0))
        this.downloadBytes = Number(view.getBigUint64(8))
        if (this.uploadBytes > MAX_TRANSFER_BYTES || this.downloadBytes > MAX_TRANSFER_BYTES) {
          throw new RangeError(`transfer of ${this.uploadBytes}/${this.downloadBytes} bytes requested, limit ${MAX_TRANSFER_BYTES}`)
        }
      }
      this.received += chunk.length - take
    } else {
      this.received += chunk.length
    }
  }

  get headerDone (): boolean {
    return this.#filled === HEADER_LENGTH
  }

  /** Counts upload bytes once the header is done, without looking at them. */
  count (length: number): void {
    this.received += length
  }

  /** Call at end-of-stream: throws unless the header and the whole upload arrived. */
  finish (): void {
    if (this.#filled < HEADER_LENGTH) throw new Error('transfer stream ended before its header')
    if (this.received !== this.uploadBytes) throw new Error(`upload incomplete: ${this.received} of ${this.uploadBytes} bytes`)
  }
}

/** One shared block of random bytes that every sender writes again and again (never mutated). */
let block: Uint8Array | undefined
export function payloadBlock (size: number): Uint8Array {
  if (block === undefined || block.length < size) block = new Uint8Array(randomBytes(size))
  return block.subarray(0, size)
}

export function elapsedMs (start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6
}
