/**
 * A raw connection inside a private network (pnet/Private-Networks-PSK-V1.md): each side
 * first writes a fresh 24-byte nonce, then everything it sends is XORed with the XSalsa20
 * keystream of (pre-shared key, its nonce); each side decrypts with the remote's nonce.
 *
 * A wrong key is caught on the first bytes: every libp2p connection starts, in both
 * directions, with the multistream-select header, so decrypted bytes that differ from it mean
 * the remote uses another key (or none) and the connection fails at once with
 * PrivateNetworkMismatchError, instead of multistream-select waiting for a garbage length.
 * The side that finds out first resets the connection, and may do so before the other side
 * has read anything; so a connection that ends or fails before the remote's header arrived
 * also fails with PrivateNetworkMismatchError (the cause says how it ended).
 *
 * Incoming chunks are decrypted in place (a chunk read from a ByteStream belongs to the
 * reader); outgoing ones into a fresh buffer, since a writer may reuse what it sent. Reading
 * from the raw connection is driven by consumption: it pauses while more than the high-water
 * mark of decrypted bytes waits unread.
 */
import type { AbortOptions } from '../../interface/common.ts'
import type { ByteStream } from '../../interface/stream.ts'
import { randomBytes } from '../../crypto/index.ts'
import { HEADER_BYTES } from '../../mss/codec.ts'
import { AbstractStream } from '../../util/abstract-stream.ts'
import { UnexpectedEOFError } from '../../util/errors.ts'
import { PrivateNetworkMismatchError } from './errors.ts'
import { XSalsa20Stream } from './xsalsa20-stream.ts'

export const NONCE_LENGTH = 24

function endedBeforeHeader (cause: Error): PrivateNetworkMismatchError {
  return new PrivateNetworkMismatchError('the remote closed the connection before sending anything under our network key: it is not in this private network (another key, or none)', { cause })
}
const DEFAULT_HIGH_WATER_MARK = 256 * 1024

export class PnetConnection extends AbstractStream {
  readonly #raw: ByteStream
  readonly #key: Uint8Array
  readonly #writer: XSalsa20Stream
  #reader: XSalsa20Stream | undefined
  readonly #remoteNonce = new Uint8Array(NONCE_LENGTH)
  #remoteNonceLength = 0
  /** Bytes of the multistream-select header checked so far (stops at its length). */
  #headerChecked = 0
  #pumping = false
  #waitingForDrain = false

  constructor (raw: ByteStream, key: Uint8Array) {
    super()
    this.#raw = raw
    this.#key = key
    const nonce = randomBytes(NONCE_LENGTH)
    // A peer outside any private network reads our nonce as a multistream-select message. The
    // first two bytes are set to a varint of at least 15360 (> its 1024-byte limit), so it
    // hangs up at once, instead of waiting for a random length's worth of bytes while we wait
    // for its nonce. That costs 5 of the nonce's 192 random bits (collisions stay beyond reach).
    nonce[0] |= 0x80
    nonce[1] = (nonce[1] & 0x07) | 0x78
    this.#writer = new XSalsa20Stream(key, nonce)
    raw.send(nonce)
    void this.#pump()
  }

  async #pump (): Promise<void> {
    if (this.#pumping) return
    this.#pumping = true
    const raw = this.#raw
    try {
      while (this.readStatus === 'open' && this.status !== 'aborted' && this.status !== 'reset' && this.readableLength < DEFAULT_HIGH_WATER_MARK) {
        let chunk: Uint8Array | null
        try {
          chunk = raw.tryRead?.() ?? await raw.read()
        } catch (err) {
          throw this.#headerChecked < HEADER_BYTES.length ? endedBeforeHeader(err as Error) : err
        }
        if (chunk === null) {
          if (this.#headerChecked < HEADER_BYTES.length) throw endedBeforeHeader(new UnexpectedEOFError('the connection ended'))
          this.pushEnd()
          return
        }
        this.#receive(chunk)
      }
    } catch (err) {
      this.pushReset(err as Error)
      raw.abort(err as Error)
    } finally {
      this.#pumping = false
    }
  }

  #receive (chunk: Uint8Array): void {
    let data = chunk
    if (this.#reader === undefined) {
      const take = Math.min(NONCE_LENGTH - this.#remoteNonceLength, data.length)
      this.#remoteNonce.set(data.subarray(0, take), this.#remoteNonceLength)
      this.#remoteNonceLength += take
      data = data.subarray(take)
      if (this.#remoteNonceLength < NONCE_LENGTH) return
      this.#reader = new XSalsa20Stream(this.#key, this.#remoteNonce)
    }
    if (data.length === 0) return
    this.#reader.xor(data)
    if (this.#headerChecked < HEADER_BYTES.length) {
      const n = Math.min(HEADER_BYTES.length - this.#headerChecked, data.length)
      for (let i = 0; i < n; i++) {
        if (data[i] !== HEADER_BYTES[this.#headerChecked + i]) throw new PrivateNetworkMismatchError()
      }
      this.#headerChecked += n
    }
    this.pushData(data)
  }

  protected override onConsumed (): void {
    if (!this.#pumping && this.readableLength < DEFAULT_HIGH_WATER_MARK) void this.#pump()
  }

  protected sendChunk (chunk: Uint8Array): boolean {
    const below = this.#raw.send(this.#writer.xor(chunk, new Uint8Array(chunk.length)))
    if (!below && !this.#waitingForDrain) {
      this.#waitingForDrain = true
      this.#raw.drain().then(this.#onRawDrain, () => {})
    }
    return below
  }

  readonly #onRawDrain = (): void => {
    this.#waitingForDrain = false
    this.notifyDrain()
  }

  protected sendCloseWrite (options?: AbortOptions): Promise<void> {
    return this.#raw.closeWrite(options)
  }

  protected sendReset (err: Error): void {
    this.#raw.abort(err)
  }

  protected override onReadClosed (): void {
    this.#raw.closeRead()
  }
}
