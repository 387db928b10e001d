/**
 * The encrypted byte stream after a Noise handshake. Every message on the wire is
 * `u16 BE length || ChaCha20-Poly1305(ciphertext || tag)`, at most 65535 bytes, so plaintext
 * goes out in chunks of at most 65519 bytes.
 *
 * Reading is consume-driven: the raw connection is only read while the local buffer of
 * decrypted bytes is below the high-water mark, so a slow reader stops the socket and TCP
 * pushes back on the remote writer. Frames are decrypted straight out of the incoming chunks;
 * only a frame split across chunks is copied (into one reused buffer). Writing encrypts each
 * frame into a single buffer (length + ciphertext + tag) and hands it to the raw connection,
 * whose backpressure is passed up through `send()`'s return value and `drain()`.
 */
import type { AbortOptions } from '../../interface/common.ts'
import type { ByteStream } from '../../interface/stream.ts'
import { AbstractStream } from '../../util/abstract-stream.ts'
import { InvalidMessageError, UnexpectedEOFError } from '../../util/errors.ts'
import { TAG_LENGTH, type CipherState } from './symmetric-state.ts'

export const MAX_FRAME_LENGTH = 65535
export const MAX_PLAINTEXT_LENGTH = MAX_FRAME_LENGTH - TAG_LENGTH
const DEFAULT_HIGH_WATER_MARK = 256 * 1024

export interface NoiseConnectionOptions {
  /** Decrypted bytes buffered for the reader before the raw connection is paused. */
  highWaterMark?: number
  /** Allocates frame buffers that are fully overwritten (the crypto backend's allocUnsafe). */
  allocUnsafe?: (size: number) => Uint8Array
}

const allocZeroed = (size: number): Uint8Array => new Uint8Array(size)

export class NoiseConnection extends AbstractStream {
  readonly #raw: ByteStream
  readonly #sender: CipherState
  readonly #receiver: CipherState
  readonly #highWaterMark: number
  readonly #allocUnsafe: (size: number) => Uint8Array
  #pumping = false
  #waitingForDrain = false
  /** Length of the frame being received, or -1 while its 2-byte header is incomplete. */
  #frameLength = -1
  /** First byte of a header split across chunks, or -1. */
  #headerByte = -1
  /** Holds a frame that arrived split across chunks. */
  #assembly: Uint8Array | undefined
  #assembled = 0

  constructor (raw: ByteStream, sender: CipherState, receiver: CipherState, options: NoiseConnectionOptions = {}) {
    super()
    this.#raw = raw
    this.#sender = sender
    this.#receiver = receiver
    this.#highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK
    this.#allocUnsafe = options.allocUnsafe ?? allocZeroed
    this.#pump()
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
      if (this.#assembled === 0 && length - offset >= frameLength) {
        // The whole frame is in this chunk: decrypt in place, no copy.
        this.#deliver(chunk.subarray(offset, offset + frameLength))
        offset += frameLength
        this.#frameLength = -1
        continue
      }
      const assembly = this.#assembly ??= new Uint8Array(MAX_FRAME_LENGTH)
      const take = Math.min(frameLength - this.#assembled, length - offset)
      assembly.set(chunk.subarray(offset, offset + take), this.#assembled)
      this.#assembled += take
      offset += take
      if (this.#assembled === frameLength) {
        this.#assembled = 0
        this.#frameLength = -1
        this.#deliver(assembly.subarray(0, frameLength))
      }
    }
  }

  #deliver (frame: Uint8Array): void {
    const plaintext = this.#receiver.decryptWithAd(undefined, frame)
    if (plaintext.length > 0) this.pushData(plaintext)
  }

  // ---- writing ----------------------------------------------------------------------------

  protected sendChunk (chunk: Uint8Array): boolean {
    let ok = true
    try {
      for (let offset = 0; offset < chunk.length; offset += MAX_PLAINTEXT_LENGTH) {
        const part = chunk.subarray(offset, Math.min(offset + MAX_PLAINTEXT_LENGTH, chunk.length))
        const sealedLength = part.length + TAG_LENGTH
        const frame = this.#allocUnsafe(2 + sealedLength)
        frame[0] = sealedLength >>> 8
        frame[1] = sealedLength & 0xff
        this.#sender.sealInto(part, frame, 2)
        ok = this.#raw.send(frame)
      }
    } catch (err) {
      this.#fail(err as Error)
      throw err
    }
    if (!ok) this.#waitForRawDrain()
    return ok
  }

  #waitForRawDrain (): void {
    if (this.#waitingForDrain) return
    this.#waitingForDrain = true
    this.#raw.drain().then(() => {
      this.#waitingForDrain = false
      this.notifyDrain()
    }, (err: Error) => {
      this.#waitingForDrain = false
      this.#fail(err)
    })
  }

  protected async sendCloseWrite (options?: AbortOptions): Promise<void> {
    await this.#raw.closeWrite(options)
  }

  protected sendReset (err: Error): void {
    this.#raw.abort(err)
  }

  protected override onReadClosed (): void {
    this.#raw.closeRead()
  }

  protected override onFinished (): void {
    this.#assembly = undefined
    if (this.error === undefined) this.#raw.closeRead()
  }

  /** A decryption or transport failure kills both directions and the raw connection. */
  #fail (err: Error): void {
    if (this.error !== undefined) return
    this.pushReset(err)
    this.#raw.abort(err)
  }
}
