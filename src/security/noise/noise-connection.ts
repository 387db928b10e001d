/**
 * The encrypted byte stream after a Noise handshake. Every message on the wire is
 * `u16 BE length || ChaCha20-Poly1305(ciphertext || tag)`, at most 65535 bytes, so plaintext
 * goes out in chunks of at most 65519 bytes.
 *
 * Writing coalesces: plaintext handed to `send()` waits (by reference) until a full 65519-byte
 * frame is there, which is sealed at once, or until the current I/O events are handled (see
 * runAtBatchEnd), when the rest goes out as one smaller frame. So a muxer's 12-byte header and
 * the payload behind it share one frame (one cipher object, one tag) instead of costing one
 * each. A frame is sealed from its pieces
 * without gathering them, and the length prefix, ciphertext pieces and tag are handed to the
 * raw connection as they are (TCP writes them with one writev); its backpressure is passed up
 * through `send()`'s return value and `drain()`.
 *
 * Reading is consume-driven: the raw connection is only read while the local buffer of
 * decrypted bytes is below the high-water mark, so a slow reader stops the socket and TCP
 * pushes back on the remote writer. Frames are decrypted straight out of the incoming chunks,
 * also when a frame spans several of them: where the cipher can (node:crypto), each piece is
 * decrypted as it arrives and the plaintext held back until the tag verifies; otherwise the
 * pieces are kept (by reference: chunks read from a ByteStream are never reused by the layer
 * below) until the frame is complete.
 *
 * Over a raw connection that offers borrowed reads (TCP in Node) the bytes arrive instead
 * synchronously in a buffer the transport reuses: frames are decrypted before the call
 * returns (a cipher without piecewise opening copies the unfinished tail of a frame). The
 * read loop then only waits for the raw connection's end or failure.
 */
import type { AbortOptions } from '../../interface/common.ts'
import { isBorrowedReadSource } from '../../interface/stream.ts'
import type { BorrowedReadSource, ByteStream } from '../../interface/stream.ts'
import { AbstractStream } from '../../util/abstract-stream.ts'
import { InvalidMessageError, UnexpectedEOFError } from '../../util/errors.ts'
import { TAG_LENGTH, type CipherState } from './symmetric-state.ts'
import { runAtBatchEnd } from '../../util/timers.ts'

export const MAX_FRAME_LENGTH = 65535
export const MAX_PLAINTEXT_LENGTH = MAX_FRAME_LENGTH - TAG_LENGTH
const DEFAULT_HIGH_WATER_MARK = 256 * 1024

export interface NoiseConnectionOptions {
  /** Decrypted bytes buffered for the reader before the raw connection is paused. */
  highWaterMark?: number
}

/** Length prefixes are cut from slabs of this size (never rewritten once handed out). */
const PREFIX_SLAB_BYTES = 4096

export class NoiseConnection extends AbstractStream {
  readonly #raw: ByteStream
  readonly #sender: CipherState
  readonly #receiver: CipherState
  readonly #highWaterMark: number
  #pumping = false
  #waitingForDrain = false
  #rawBlocked = false
  /** True when the raw connection delivers through #onBorrowed (see the module comment). */
  #borrowing = false
  #borrowedSource: BorrowedReadSource | undefined
  #borrowingPaused = false

  // reading
  /** Length of the frame being received, or -1 while its 2-byte header is incomplete. */
  #frameLength = -1
  /** First byte of a header split across chunks, or -1. */
  #headerByte = -1
  /** The pieces received so far of a frame that spans chunks (views, not copies). */
  #frameParts: Uint8Array[] = []
  #frameReceived = 0
  /** Holds a tag split across chunks. */
  #tagScratch: Uint8Array | undefined
  /** Reused lists for one frame's ciphertext and plaintext pieces. */
  readonly #openIn: Uint8Array[] = []
  /** Decrypted pieces of a spanning frame whose tag has not been checked yet. */
  readonly #pendingPlaintext: Uint8Array[] = []
  /** The receiving cipher decrypts a frame's pieces as they arrive (see #openPiece). */
  readonly #opensInPieces: boolean
  readonly #openOut: Uint8Array[] = []

  // writing
  /** Plaintext waiting for a frame, by reference. */
  #outgoing: Uint8Array[] = []
  #outgoingHead = 0
  #outgoingBytes = 0
  #flushScheduled = false
  readonly #sealIn: Uint8Array[] = []
  readonly #sealOut: Uint8Array[] = []
  #prefixSlab = new Uint8Array(0)
  #prefixOffset = 0
  readonly #flushTask = (): void => {
    this.#flushScheduled = false
    this.#flushOutgoing()
    // This runs once the batch of I/O events is handled, which is when the transport would
    // flush too, but only on the next event-loop turn: the frames leave now instead.
    this.#raw.flush?.()
  }

  constructor (raw: ByteStream, sender: CipherState, receiver: CipherState, options: NoiseConnectionOptions = {}) {
    super()
    this.#raw = raw
    this.#sender = sender
    this.#receiver = receiver
    this.#highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK
    this.#opensInPieces = receiver.opensInPieces
    if (isBorrowedReadSource(raw)) {
      this.#borrowing = true
      if (raw.readBorrowed(this.#onBorrowed)) this.#borrowedSource = raw
      else this.#borrowing = false
    }
    this.#pump()
  }

  /** True when the raw connection hands bytes over in its reused read buffer. */
  get borrowedReads (): boolean { return this.#borrowing }

  readonly #onBorrowed = (chunk: Uint8Array): boolean => {
    if (this.readStatus !== 'open') return true
    try {
      this.#decryptChunk(chunk)
    } catch (err) {
      this.#fail(err as Error)
      return false
    }
    if (this.readableLength < this.#highWaterMark) return true
    this.#borrowingPaused = true
    return false
  }

  // ---- reading ----------------------------------------------------------------------------

  #pump (): void {
    if (this.#pumping) return
    this.#pumping = true
    void this.#readLoop()
  }

  async #readLoop (): Promise<void> {
    try {
      while (this.readStatus === 'open' && this.readableLength < this.#highWaterMark) {
        const chunk = await this.#raw.read()
        // closeRead() while this read was pending: nothing more is wanted.
        if (this.readStatus !== 'open') return
        if (chunk === null) {
          if (this.#frameLength >= 0 || this.#headerByte >= 0) {
            throw new UnexpectedEOFError('connection ended inside a noise frame')
          }
          this.pushEnd()
          return
        }
        this.#decryptChunk(chunk)
      }
    } catch (err) {
      this.#fail(err as Error)
    } finally {
      this.#pumping = false
    }
  }

  protected override onConsumed (): void {
    if (this.#borrowingPaused && this.readableLength < this.#highWaterMark) {
      this.#borrowingPaused = false
      if (this.readStatus === 'open') this.#borrowedSource?.resumeBorrowedReads()
    }
    if (!this.#pumping && this.readStatus === 'open' && this.readableLength < this.#highWaterMark) this.#pump()
  }

  #decryptChunk (chunk: Uint8Array): void {
    const length = chunk.length
    let offset = 0
    while (offset < length) {
      let frameLength = this.#frameLength
      if (frameLength < 0) {
        if (this.#headerByte >= 0) {
          frameLength = (this.#headerByte << 8) | chunk[offset++]
          this.#headerByte = -1
        } else if (length - offset >= 2) {
          frameLength = (chunk[offset] << 8) | chunk[offset + 1]
          offset += 2
        } else {
          this.#headerByte = chunk[offset++]
          return
        }
        if (frameLength < TAG_LENGTH) throw new InvalidMessageError(`noise frame of ${frameLength} bytes is shorter than its tag`)
        this.#frameLength = frameLength
      }
      if (this.#frameReceived === 0 && length - offset >= frameLength) {
        // The whole frame is in this chunk.
        const tagAt = offset + frameLength - TAG_LENGTH
        const parts = this.#openIn
        if (tagAt > offset) parts.push(chunk.subarray(offset, tagAt))
        this.#open(parts, chunk.subarray(tagAt, tagAt + TAG_LENGTH))
        offset += frameLength
        this.#frameLength = -1
        continue
      }
      const take = Math.min(frameLength - this.#frameReceived, length - offset)
      const piece = chunk.subarray(offset, offset + take)
      offset += take
      if (this.#opensInPieces) {
        this.#openPiece(piece, frameLength)
        continue
      }
      this.#frameReceived += take
      // A borrowed chunk is overwritten by the next read: keep a copy of a frame's unfinished part.
      this.#frameParts.push(this.#borrowing && this.#frameReceived < frameLength ? piece.slice() : piece)
      if (this.#frameReceived === frameLength) {
        this.#frameReceived = 0
        this.#frameLength = -1
        this.#openSpanning()
      }
    }
  }

  /**
   * A frame that spans chunks, with a cipher that decrypts piece by piece: each piece is
   * decrypted as it arrives (nothing is kept or copied but up to 16 tag bytes), and the
   * plaintext is held back until the tag has verified.
   */
  #openPiece (piece: Uint8Array, frameLength: number): void {
    const start = this.#frameReceived
    const end = start + piece.length
    const cipherEnd = frameLength - TAG_LENGTH
    if (start === 0) this.#receiver.beginOpen()
    if (start < cipherEnd) this.#receiver.openPiece(end <= cipherEnd ? piece : piece.subarray(0, cipherEnd - start), this.#pendingPlaintext)
    if (end > cipherEnd) {
      const tag = this.#tagScratch ??= new Uint8Array(TAG_LENGTH)
      const from = Math.max(start, cipherEnd)
      tag.set(piece.subarray(from - start), from - cipherEnd)
    }
    this.#frameReceived = end
    if (end < frameLength) return
    this.#frameReceived = 0
    this.#frameLength = -1
    const plaintext = this.#pendingPlaintext
    try {
      this.#receiver.finishOpen(this.#tagScratch!)
    } catch (err) {
      plaintext.length = 0
      throw err
    }
    for (let i = 0; i < plaintext.length; i++) this.pushData(plaintext[i])
    plaintext.length = 0
  }

  /** Opens a frame received in pieces; its tag may itself be split between them. */
  #openSpanning (): void {
    const parts = this.#frameParts
    let tag: Uint8Array
    const last = parts[parts.length - 1]
    if (last.length >= TAG_LENGTH) {
      tag = last.subarray(last.length - TAG_LENGTH)
      if (last.length === TAG_LENGTH) parts.pop()
      else parts[parts.length - 1] = last.subarray(0, last.length - TAG_LENGTH)
    } else {
      tag = this.#tagScratch ??= new Uint8Array(TAG_LENGTH)
      let missing = TAG_LENGTH
      while (missing > 0) {
        const part = parts.pop()!
        if (part.length <= missing) {
          tag.set(part, missing - part.length)
          missing -= part.length
        } else {
          tag.set(part.subarray(part.length - missing), 0)
          parts.push(part.subarray(0, part.length - missing))
          missing = 0
        }
      }
    }
    this.#open(parts, tag)
  }

  /** Decrypts one frame and delivers its plaintext; empties `parts`. */
  #open (parts: Uint8Array[], tag: Uint8Array): void {
    const plaintext = this.#openOut
    try {
      this.#receiver.openParts(parts, tag, plaintext)
    } finally {
      parts.length = 0
    }
    for (let i = 0; i < plaintext.length; i++) this.pushData(plaintext[i])
    plaintext.length = 0
  }

  // ---- writing ----------------------------------------------------------------------------

  flush (): void {
    this.#flushOutgoing()
    this.#raw.flush?.()
  }

  protected sendChunk (chunk: Uint8Array): boolean {
    this.#outgoing.push(chunk)
    this.#outgoingBytes += chunk.length
    if (this.#outgoingBytes >= MAX_PLAINTEXT_LENGTH) {
      try {
        while (this.#outgoingBytes >= MAX_PLAINTEXT_LENGTH) this.#sealFrame(MAX_PLAINTEXT_LENGTH)
      } catch (err) {
        this.#fail(err as Error)
        throw err
      }
    }
    if (this.#outgoingBytes > 0 && !this.#flushScheduled) {
      this.#flushScheduled = true
      runAtBatchEnd(this.#flushTask)
    }
    return !this.#rawBlocked
  }

  /** Seals everything waiting, the last frame possibly short. */
  #flushOutgoing (): void {
    if (this.error !== undefined) return
    try {
      while (this.#outgoingBytes > 0) this.#sealFrame(Math.min(this.#outgoingBytes, MAX_PLAINTEXT_LENGTH))
    } catch (err) {
      this.#fail(err as Error)
    }
  }

  /** Seals the next `length` waiting bytes as one frame and hands it to the raw connection. */
  #sealFrame (length: number): void {
    const parts = this.#sealIn
    const queue = this.#outgoing
    let missing = length
    while (missing > 0) {
      const head = queue[this.#outgoingHead]
      if (head.length <= missing) {
        parts.push(head)
        missing -= head.length
        this.#outgoingHead++
      } else {
        parts.push(head.subarray(0, missing))
        queue[this.#outgoingHead] = head.subarray(missing)
        missing = 0
      }
    }
    this.#outgoingBytes -= length
    if (this.#outgoingHead === queue.length) {
      queue.length = 0
      this.#outgoingHead = 0
    } else if (this.#outgoingHead > 64) {
      this.#outgoing = queue.slice(this.#outgoingHead)
      this.#outgoingHead = 0
    }
    const wire = this.#sealOut
    wire.push(this.#lengthPrefix(length + TAG_LENGTH))
    try {
      this.#sender.sealParts(parts, wire)
    } finally {
      parts.length = 0
    }
    const raw = this.#raw
    // the prefix is a view of a shared slab; the sealed pieces are ours alone (Aead.sealParts)
    let ok = raw.send(wire[0])
    if (raw.sendOwned !== undefined) {
      for (let i = 1; i < wire.length; i++) ok = raw.sendOwned(wire[i])
    } else {
      for (let i = 1; i < wire.length; i++) ok = raw.send(wire[i])
    }
    wire.length = 0
    if (!ok) {
      this.#rawBlocked = true
      this.#waitForRawDrain()
    }
  }

  #lengthPrefix (sealedLength: number): Uint8Array {
    let offset = this.#prefixOffset
    if (offset + 2 > this.#prefixSlab.length) {
      this.#prefixSlab = new Uint8Array(PREFIX_SLAB_BYTES)
      offset = 0
    }
    const prefix = this.#prefixSlab.subarray(offset, offset + 2)
    this.#prefixOffset = offset + 2
    prefix[0] = sealedLength >>> 8
    prefix[1] = sealedLength & 0xff
    return prefix
  }

  #waitForRawDrain (): void {
    if (this.#waitingForDrain) return
    this.#waitingForDrain = true
    this.#raw.drain().then(() => {
      this.#waitingForDrain = false
      this.#rawBlocked = false
      this.notifyDrain()
    }, (err: Error) => {
      this.#waitingForDrain = false
      this.#fail(err)
    })
  }

  protected async sendCloseWrite (options?: AbortOptions): Promise<void> {
    this.#flushOutgoing()
    if (this.error !== undefined) throw this.error
    await this.#raw.closeWrite(options)
  }

  protected sendReset (err: Error): void {
    this.#dropOutgoing()
    this.#raw.abort(err)
  }

  #dropOutgoing (): void {
    this.#outgoing = []
    this.#outgoingHead = 0
    this.#outgoingBytes = 0
  }

  protected override onReadClosed (): void {
    this.#raw.closeRead()
  }

  protected override onFinished (): void {
    this.#frameParts = []
    this.#pendingPlaintext.length = 0
    if (this.error === undefined) this.#raw.closeRead()
  }

  /** A decryption or transport failure kills both directions and the raw connection. */
  #fail (err: Error): void {
    if (this.error !== undefined) return
    this.#dropOutgoing()
    this.pushReset(err)
    this.#raw.abort(err)
  }
}
