/**
 * Binary data frames written by us instead of `ws.send` (RFC 6455 §5.2), for the data path of
 * NodeWebSocketConnection. Why not ws: it frames every send as a message of its own (a Noise
 * frame's length prefix, ciphertext and tag became three messages), and a client's frames it
 * masks byte by byte into a fresh buffer per message: in profiles of a WebSocket upload that
 * masking was the sender's largest cost, above the cipher.
 *
 * Here everything sent while one batch of I/O events is handled becomes one message (up to
 * MAX_MESSAGE_BYTES). A client's message is masked while it is copied into a slab (a 256 KiB
 * buffer shared by every connection of the process, carved message by message and replaced
 * when full; the sockets hold on to what they have not written yet, and nothing carved is
 * ever touched again), 32 bits at a time. Its masking key is fresh for every message and comes
 * from a pool (also shared) filled by the system's CSPRNG, as §5.3 asks. Sharing keeps an idle
 * connection's cost at nothing: a slab per connection would hold 256 KiB per WebSocket. A server's message is a header from the slab followed by the chunks by reference.
 * Control frames (ping, pong, close) stay with ws, which writes each whole and at once, so they
 * fall between our messages, never inside one.
 */
import { randomFillSync } from 'node:crypto'
import type { Socket } from 'node:net'

/** One message carries at most this much (well under any peer's message limit). */
export const MAX_MESSAGE_BYTES = 256 * 1024
const SLAB_BYTES = 256 * 1024
const MASK_POOL_BYTES = 4096
const OPCODE_BINARY_FIN = 0x82
const MASK_BIT = 0x80
const MAX_HEADER_BYTES = 14

// Shared by every writer of the process (flush() runs to completion, so they never interleave).
let slab = new Uint8Array(0)
let slabWords = new Uint32Array(0)
let slabOffset = 0
let maskPool: Uint8Array | undefined
let maskPoolOffset = MASK_POOL_BYTES

export class FrameWriter {
  readonly #socket: Socket
  readonly #mask: boolean
  readonly #pending: Uint8Array[] = []
  #pendingBytes = 0

  /** `mask`: this side is the client, whose frames must be masked. */
  constructor (socket: Socket, mask: boolean) {
    this.#socket = socket
    this.#mask = mask
  }

  /** Bytes waiting for the next flush(). */
  get pendingBytes (): number {
    return this.#pendingBytes
  }

  /** Queues `chunk` for the next message; the caller must not change it afterwards. */
  push (chunk: Uint8Array): void {
    if (chunk.length === 0) return
    for (let offset = 0; offset < chunk.length;) {
      if (this.#pendingBytes === MAX_MESSAGE_BYTES) this.flush()
      const take = Math.min(chunk.length - offset, MAX_MESSAGE_BYTES - this.#pendingBytes)
      this.#pending.push(take === chunk.length ? chunk : chunk.subarray(offset, offset + take))
      this.#pendingBytes += take
      offset += take
    }
  }

  /** Writes what is queued as one binary message. */
  flush (): void {
    const length = this.#pendingBytes
    if (length === 0) return
    const pending = this.#pending
    const headerLength = (length < 126 ? 2 : length < 65536 ? 4 : 10) + (this.#mask ? 4 : 0)
    const frameLength = this.#mask ? headerLength + length : headerLength
    // the payload starts on a 4-byte boundary of the slab, so it is masked a word at a time
    let start = alignedStart(slabOffset, headerLength)
    if (start + frameLength > slab.length) {
      slab = new Uint8Array(Math.max(SLAB_BYTES, frameLength + 4))
      slabWords = new Uint32Array(slab.buffer, 0, slab.length >>> 2)
      start = alignedStart(0, headerLength)
    }
    slab[start] = OPCODE_BINARY_FIN
    let at = start + 2
    if (length < 126) {
      slab[start + 1] = length
    } else if (length < 65536) {
      slab[start + 1] = 126
      slab[at++] = length >>> 8
      slab[at++] = length & 0xff
    } else {
      slab[start + 1] = 127
      // 64-bit big-endian length; ours stays below 2^32
      slab[at++] = 0; slab[at++] = 0; slab[at++] = 0; slab[at++] = 0
      slab[at++] = length >>> 24; slab[at++] = (length >>> 16) & 0xff; slab[at++] = (length >>> 8) & 0xff; slab[at++] = length & 0xff
    }
    if (this.#mask) {
      slab[start + 1] |= MASK_BIT
      writeMaskKey(at)
      at += 4
      let payloadAt = at
      for (let i = 0; i < pending.length; i++) {
        slab.set(pending[i], payloadAt)
        payloadAt += pending[i].length
      }
      maskInPlace(at, length)
    }
    slabOffset = start + frameLength
    const socket = this.#socket
    socket.write(slab.subarray(start, start + frameLength))
    if (!this.#mask) {
      for (let i = 0; i < pending.length; i++) socket.write(pending[i])
    }
    pending.length = 0
    this.#pendingBytes = 0
  }

  /** Drops what is queued (the connection is being reset). */
  discard (): void {
    this.#pending.length = 0
    this.#pendingBytes = 0
  }
}

function alignedStart (offset: number, headerLength: number): number {
  return offset + ((4 - ((offset + headerLength) & 3)) & 3)
}

function writeMaskKey (at: number): void {
  if (maskPool === undefined || maskPoolOffset === MASK_POOL_BYTES) {
    maskPool ??= new Uint8Array(MASK_POOL_BYTES)
    randomFillSync(maskPool)
    maskPoolOffset = 0
  }
  slab[at] = maskPool[maskPoolOffset]
  slab[at + 1] = maskPool[maskPoolOffset + 1]
  slab[at + 2] = maskPool[maskPoolOffset + 2]
  slab[at + 3] = maskPool[maskPoolOffset + 3]
  maskPoolOffset += 4
}

/** XORs `length` bytes of the slab at `at` (4-byte aligned, the key in the 4 bytes before it) with the key. */
function maskInPlace (at: number, length: number): void {
  const words = slabWords
  // the key read as a word in the platform's byte order lines up with the payload's words
  const key = words[(at >>> 2) - 1]
  const first = at >>> 2
  const end = first + (length >>> 2)
  for (let i = first; i < end; i++) words[i] ^= key
  for (let i = length & ~3; i < length; i++) slab[at + i] ^= slab[at - 4 + (i & 3)]
}
