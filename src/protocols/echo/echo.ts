/**
 * The echo protocol (`/echo/1.0.0`, as go-libp2p-daemon's EnableEcho): every byte received
 * is written back, and the write side closes when the remote half-closes. Off by default; it
 * exists for tests, the daemon and the CLI.
 * The copy loop is util/echo-stream.ts (ping's server runs it too).
 */
import type { AbortOptions } from '../../interface/common.ts'
import type { NodeComponents, Startable } from '../../interface/components.ts'
import type { Stream } from '../../interface/stream.ts'
import type { Logger } from '../../interface/logger.ts'
import { InvalidMessageError } from '../../util/errors.ts'
import { echoUntilHalfClosed } from '../../util/echo-stream.ts'
import { resolveConnection, type ProtocolTarget } from '../connection-target.ts'
import { withDeadline } from '../../util/deadline.ts'

export const ECHO_PROTOCOL = '/echo/1.0.0'

export interface EchoOptions {
  protocol?: string
  /** An inbound stream is aborted after this long without data, in ms (default 60 s). */
  idleTimeout?: number
  /** Budget of one `echo()` call, in ms (default 30 s). */
  timeout?: number
  /** Concurrent inbound echo streams per connection (default 256). */
  maxInboundStreams?: number
  maxOutboundStreams?: number
  runOnLimitedConnection?: boolean
}

export type EchoComponents = Pick<NodeComponents, 'registrar' | 'connectionManager' | 'logger'>

/**
 * Serves one echo stream: copies until the remote half-closes, then half-closes too.
 * Aborts the stream (and rejects) on error or after `idleTimeout` ms without data.
 */
export async function serveEcho (stream: Stream, idleTimeout: number = 60_000): Promise<void> {
  await echoUntilHalfClosed(stream, idleTimeout, 'echo stream idle')
}

/**
 * Client side on a negotiated echo stream: writes `data`, half-closes, and returns everything
 * the remote sent back (at most `data.length` bytes; more is an InvalidMessageError). Reading
 * runs alongside writing, so payloads larger than the flow-control windows cannot deadlock.
 */
export async function echoOverStream (stream: Stream, data: Uint8Array, options: AbortOptions = {}): Promise<Uint8Array> {
  const signal = options.signal
  const received = new Uint8Array(data.length)
  const reading = (async () => {
    let offset = 0
    for (;;) {
      const chunk = await stream.read({ signal })
      if (chunk === null) return offset
      if (chunk.length > received.length - offset) throw new InvalidMessageError(`echo returned more than the ${data.length} bytes sent`)
      received.set(chunk, offset)
      offset += chunk.length
    }
  })()
  try {
    await stream.write(data, { signal })
    await stream.closeWrite({ signal })
  } catch (err) {
    stream.abort(err as Error)
    await reading.catch(() => {})
    throw err
  }
  let length: number
  try {
    length = await reading
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
  await stream.close({ signal })
  return length === received.length ? received : received.subarray(0, length)
}

export class EchoService implements Startable {
  readonly serviceCapabilities: readonly string[] = ['@libp2p/echo']
  readonly protocol: string
  readonly #components: EchoComponents
  readonly #log: Logger
  readonly #options: EchoOptions

  constructor (components: EchoComponents, options: EchoOptions = {}) {
    this.#components = components
    this.#options = options
    this.#log = components.logger('echo')
    this.protocol = options.protocol ?? ECHO_PROTOCOL
  }

  start (): void {
    const idleTimeout = this.#options.idleTimeout ?? 60_000
    this.#components.registrar.handle(this.protocol, (stream, connection) => {
      serveEcho(stream, idleTimeout).catch((err: Error) => {
        this.#log('echo stream from %s failed: %s', connection.remotePeer, err.message)
      })
    }, {
      // Echo is a test and benchmark service: serve 256 concurrent streams per connection, as a
      // client that measures concurrency expects (the resource manager bounds the total).
      maxInboundStreams: this.#options.maxInboundStreams ?? 256,
      maxOutboundStreams: this.#options.maxOutboundStreams ?? 256,
      runOnLimitedConnection: this.#options.runOnLimitedConnection ?? false
    })
  }

  stop (): void {
    this.#components.registrar.unhandle(this.protocol)
  }

  /** Sends `data` to the target's echo service and returns what came back. */
  async echo (target: ProtocolTarget, data: Uint8Array, options: AbortOptions = {}): Promise<Uint8Array> {
    const timeout = this.#options.timeout ?? 30_000
    return await withDeadline(timeout, options.signal, `echo timed out after ${timeout} ms`, async (signal) => {
      const connection = await resolveConnection(this.#components.connectionManager, target, signal)
      const stream = await connection.newStream(this.protocol, { signal, runOnLimitedConnection: this.#options.runOnLimitedConnection })
      return await echoOverStream(stream, data, { signal })
    })
  }
}

/** Service factory: `services: { echo: echo() }`. */
export function echo (options: EchoOptions = {}): (components: EchoComponents) => EchoService {
  return (components) => new EchoService(components, options)
}
