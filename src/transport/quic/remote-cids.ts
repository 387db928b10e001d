/**
 * The connection ids the remote gave us (RFC 9000 5.1): the one we address it with, the spares
 * from NEW_CONNECTION_ID (at most our active_connection_id_limit), the retirements we owe when
 * it asks for them with retire_prior_to, and its stateless reset tokens (10.3), which tell a
 * stateless reset from noise.
 */
import type { Frame } from './frames.ts'
import { QuicProtocolError, QuicTransportErrorCode } from './errors.ts'

/** The active_connection_id_limit we announce. */
export const ACTIVE_CONNECTION_ID_LIMIT = 4

export class RemoteConnectionIds {
  /** The id our packets carry. */
  current: Uint8Array
  #sequence = 0
  readonly #spares = new Map<number, { cid: Uint8Array, token: Uint8Array }>()
  readonly #retire: number[] = []
  readonly #resetTokens: Uint8Array[] = []

  constructor (initial: Uint8Array) {
    this.current = initial
  }

  addResetToken (token: Uint8Array): void {
    if (this.#resetTokens.length < 2 * ACTIVE_CONNECTION_ID_LIMIT) this.#resetTokens.push(token)
  }

  onNewConnectionId (frame: Extract<Frame, { type: 'new_connection_id' }>): void {
    if (this.current.length === 0) throw new QuicProtocolError('NEW_CONNECTION_ID to a peer using empty ids')
    if (!this.#spares.has(frame.sequence) && frame.sequence >= this.#sequence) {
      this.#spares.set(frame.sequence, { cid: frame.connectionId.slice(), token: frame.resetToken.slice() })
      this.addResetToken(frame.resetToken.slice())
    }
    if (frame.retirePriorTo > this.#sequence) {
      // The remote retires the id we use: move to the next one and confirm the retirements.
      for (let seq = this.#sequence; seq < frame.retirePriorTo; seq++) {
        this.#spares.delete(seq)
        if (this.#retire.length < 16) this.#retire.push(seq)
      }
      this.#sequence = frame.retirePriorTo
      const next = [...this.#spares.keys()].filter(s => s >= frame.retirePriorTo).sort((a, b) => a - b)[0]
      if (next !== undefined) {
        this.current = this.#spares.get(next)!.cid
        this.#sequence = next
      }
    }
    if (this.#spares.size > ACTIVE_CONNECTION_ID_LIMIT) throw new QuicProtocolError('more connection ids than active_connection_id_limit', QuicTransportErrorCode.CONNECTION_ID_LIMIT_ERROR)
  }

  /** A RETIRE_CONNECTION_ID sequence number to send, if any. */
  takeRetire (): number | undefined { return this.#retire.shift() }
  get retirePending (): boolean { return this.#retire.length > 0 }

  /** Whether `datagram` ends with one of the remote's stateless reset tokens. */
  isStatelessReset (datagram: Uint8Array): boolean {
    if (datagram.length < 21) return false
    const tail = datagram.subarray(datagram.length - 16)
    return this.#resetTokens.some(token => bytesEqual(token, tail))
  }
}

export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
