/**
 * The AutoNAT v1 client (autonat-v1.md): sends our addresses and peer id, reads whether the
 * server could dial us back. OK (with the address that worked) is evidence of 'public',
 * E_DIAL_ERROR of 'private'; a refusal, a bad request or an internal error is no evidence
 * and surfaces as AutoNATResponseError. A response without a status is not an OK.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import { multiaddr } from '@multiformats/multiaddr'
import type { Connection } from '../../interface/connection.ts'
import type { Stream } from '../../interface/stream.ts'
import { closeOrAbort, Deadline } from '../../util/deadline.ts'
import { InvalidMessageError, UnexpectedEOFError } from '../../util/errors.ts'
import { StreamReader, writeLP } from '../../util/stream-reader.ts'
import { AutoNATResponseError } from './errors.ts'
import { AUTONAT_V1_PROTOCOL, decodeV1Message, encodeV1Message, MessageType, V1_MAX_ADDRS, V1_MAX_MESSAGE_SIZE, V1Status } from './v1-messages.ts'
import type { AutoNATComponents } from './components.ts'

export interface AutoNATv1ClientOptions {
  /** One request, including the server's dials (default 60 s: it may try several addresses). */
  requestTimeout?: number
}

export interface V1CheckResult {
  reachability: 'public' | 'private'
  /** The address the server reached us at (on OK). */
  addr?: Multiaddr
}

export class AutoNATv1Client {
  readonly #components: AutoNATComponents
  readonly #requestTimeout: number
  readonly #shutdown = new AbortController()

  constructor (components: AutoNATComponents, options: AutoNATv1ClientOptions = {}) {
    this.#components = components
    this.#requestTimeout = options.requestTimeout ?? 60_000
  }

  stop (): void {
    this.#shutdown.abort()
  }

  async check (connection: Connection, addrs: Multiaddr[], options: { signal?: AbortSignal } = {}): Promise<V1CheckResult> {
    const deadline = new Deadline(this.#requestTimeout, [options.signal, this.#shutdown.signal], 'the autonat v1 request timed out')
    let stream: Stream | undefined
    try {
      const signal = deadline.signal
      stream = await connection.newStream(AUTONAT_V1_PROTOCOL, { signal })
      const dial = { peerId: this.#components.peerId.bytes, addrs: addrs.slice(0, V1_MAX_ADDRS).map(a => a.bytes) }
      await writeLP(stream, encodeV1Message({ type: MessageType.DIAL, dial }), { signal })
      const frame = await new StreamReader(stream).readLP({ maxLength: V1_MAX_MESSAGE_SIZE, signal })
      if (frame === null) throw new UnexpectedEOFError('the autonat v1 stream ended before a response')
      const message = decodeV1Message(frame)
      await closeOrAbort(stream, 1_000)
      if (message.type !== MessageType.DIAL_RESPONSE || message.dialResponse === undefined) throw new InvalidMessageError('expected a DIAL_RESPONSE')
      const { status, statusText, addr } = message.dialResponse
      if (status === V1Status.OK) {
        let reached: Multiaddr | undefined
        try {
          reached = addr === undefined ? undefined : multiaddr(addr)
        } catch {
          reached = undefined
        }
        return { reachability: 'public', addr: reached }
      }
      if (status === V1Status.E_DIAL_ERROR) return { reachability: 'private' }
      throw new AutoNATResponseError(`the server answered ${status === undefined ? 'without a status' : `status ${status}`}${statusText !== undefined ? `: ${statusText}` : ''}`, status ?? -1)
    } catch (err) {
      stream?.abort(err as Error)
      throw err
    } finally {
      deadline.clear()
    }
  }
}
