/**
 * Errors raised by the switch (dialer, connection manager). A DialError carries one entry per
 * address that was tried, so "why can't I connect?" is answered by the error itself.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import { Libp2pError } from '../util/errors.ts'

export interface DialAttemptFailure {
  multiaddr: Multiaddr
  error: Error
}

/** Every address of a dial failed (or none was dialable); `errors` says why for each. */
export class DialError extends Libp2pError {
  static readonly code = 'ERR_DIAL_FAILED'
  readonly errors: DialAttemptFailure[]

  constructor (target: string, errors: DialAttemptFailure[], summary?: string, options?: ErrorOptions) {
    const lines = errors.map(e => `\n  ${e.multiaddr.toString()}: ${describe(e.error)}`).join('')
    super(`could not dial ${target}: ${summary ?? (errors.length === 0 ? 'no addresses' : `all ${errors.length} addresses failed`)}${lines}`, DialError.code, options)
    this.name = 'DialError'
    this.errors = errors
  }
}

function describe (err: Error): string {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && !err.message.includes(code) ? `${err.message} (${code})` : err.message
}
