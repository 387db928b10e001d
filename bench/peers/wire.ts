/**
 * The benchmark's own tiny application protocols, identical on every side:
 *
 * - transfer (`/ts-libp2p-bench/transfer/1.0.0`): the client sends an 8-byte big-endian count
 *   of bytes it wants back, then its upload bytes, then half-closes. The server discards the
 *   upload until end-of-stream, then sends the requested bytes and closes. An upload is timed
 *   until the server's end-of-stream arrives, so every byte is known to have been received.
 * - echo (`/ts-libp2p-bench/echo/1.0.0`): every byte is sent back; end-of-stream is mirrored.
 *
 * The raw TCP reference has no protocol negotiation, so its connections start with one mode
 * byte instead (RAW_MODE_*).
 */
import { randomBytes } from 'node:crypto'

export const TRANSFER_PROTOCOL = '/ts-libp2p-bench/transfer/1.0.0'
export const ECHO_PROTOCOL = '/ts-libp2p-bench/echo/1.0.0'
export const HEADER_LENGTH = 8
export const RAW_MODE_TRANSFER = 0x54
export const RAW_MODE_ECHO = 0x45
/** Streams of one protocol per connection the peers accept (the concurrency test needs 100). */
export const MAX_STREAMS = 1024
/** The largest transfer a client may ask for (a bad header must not start an endless send). */
export const MAX_TRANSFER_BYTES = 64 * 2 ** 30

export function encodeHeader (downloadBytes: number): Uint8Array {
  const header = new Uint8Array(HEADER_LENGTH)
  new DataView(header.buffer).setBigUint64(0, BigInt(downloadBytes))
  return header
}

/** Reads the 8-byte header from the first chunk(s) of a transfer stream. */
export class HeaderReader {
  readonly #header = new Uint8Array(HEADER_LENGTH)
  #filled = 0
  downloadBytes = -1

  /** Consumes header bytes from `chunk`; returns how many bytes of `chunk` were header. */
  feed (chunk: Uint8Array): number {
    const take = Math.min(HEADER_LENGTH - this.#filled, chunk.length)
    if (take === 0) return 0
    this.#header.set(chunk.subarray(0, take), this.#filled)
    this.#filled += take
    if (this.#filled === HEADER_LENGTH) {
      const value = Number(new DataView(this.#header.buffer).getBigUint64(0))
      if (value > MAX_TRANSFER_BYTES) throw new RangeError(`transfer of ${value} bytes requested, limit ${MAX_TRANSFER_BYTES}`)
      this.downloadBytes = value
    }
    return take
  }

  get done (): boolean {
    return this.downloadBytes >= 0
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
