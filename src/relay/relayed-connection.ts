/**
 * A relayed stream seen as a raw transport connection: the hop stream (initiator) or the stop
 * stream (target) after STATUS OK carries the other peer's bytes, and the switch upgrades it
 * with security and a muxer like a TCP socket. It delegates every ByteStream call to the
 * stream (no buffering of its own) and adds the transport facts: the circuit address, the
 * direction, and the relay's limits, which make the upgraded Connection limited.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions, Direction } from '../interface/common.ts'
import type { ConnectionLimits } from '../interface/connection.ts'
import type { DirectionStatus, Stream, StreamStatus } from '../interface/stream.ts'
import type { RawConnection } from '../interface/transport.ts'
import type { RelayLimit } from './messages.ts'

/** The relay's Limit as the switch's ConnectionLimits (undefined: not limited). */
export function connectionLimitsOf (limit: RelayLimit | undefined): ConnectionLimits | undefined {
  if (limit === undefined || (limit.duration === undefined && limit.data === undefined)) return undefined
  const limits: ConnectionLimits = {}
  if (limit.duration !== undefined) limits.seconds = limit.duration
  if (limit.data !== undefined) limits.bytes = limit.data
  return limits
}

export class RelayedConnection implements RawConnection {
  readonly remoteAddr: Multiaddr
  readonly localAddr?: Multiaddr
  readonly direction: Direction
  readonly limits?: ConnectionLimits
  readonly #stream: Stream

  constructor (stream: Stream, init: { remoteAddr: Multiaddr, direction: Direction, limits?: ConnectionLimits }) {
    this.#stream = stream
    this.remoteAddr = init.remoteAddr
    this.direction = init.direction
    this.limits = init.limits
  }

  read (options?: AbortOptions): Promise<Uint8Array | null> { return this.#stream.read(options) }
  tryRead (): Uint8Array | undefined { return this.#stream.tryRead?.() }
  flush (): void { this.#stream.flush?.() }
  unshift (chunk: Uint8Array): void { this.#stream.unshift(chunk) }
  send (chunk: Uint8Array): boolean { return this.#stream.send(chunk) }
  drain (options?: AbortOptions): Promise<void> { return this.#stream.drain(options) }
  write (chunk: Uint8Array, options?: AbortOptions): Promise<void> { return this.#stream.write(chunk, options) }
  closeWrite (options?: AbortOptions): Promise<void> { return this.#stream.closeWrite(options) }
  closeRead (): void { this.#stream.closeRead() }
  close (options?: AbortOptions): Promise<void> { return this.#stream.close(options) }
  abort (err: Error): void { this.#stream.abort(err) }
  get status (): StreamStatus { return this.#stream.status }
  get readStatus (): DirectionStatus { return this.#stream.readStatus }
  get writeStatus (): DirectionStatus { return this.#stream.writeStatus }
  get readableLength (): number { return this.#stream.readableLength }
  get closed (): Promise<void> { return this.#stream.closed }
  get error (): Error | undefined { return this.#stream.error }
  [Symbol.asyncIterator] (): AsyncIterator<Uint8Array> { return this.#stream[Symbol.asyncIterator]() }
}
