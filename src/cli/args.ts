/**
 * Shared pieces of the CLI's argument handling: the usage error type (exit code 2), strict
 * multiaddr and number parsing with readable one-line messages, and the default data dir.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { resolve } from 'node:path'

/** A mistake in how the command was invoked: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError' as const
  readonly code = 'ERR_USAGE'
}

/** Where `start` and `id` keep the identity and the peer store, relative to the cwd. */
export const DEFAULT_DATA_DIR = '.data'

export function dataDirFrom (value: string | undefined): string {
  return resolve(value ?? DEFAULT_DATA_DIR)
}

export function parseMultiaddr (text: string, what: string = 'multiaddr'): Multiaddr {
  let addr: Multiaddr
  try {
    addr = multiaddr(text)
  } catch (err) {
    throw new UsageError(`invalid ${what} '${text}': ${(err as Error).message}`)
  }
  if (addr.getComponents().length === 0) throw new UsageError(`invalid ${what} '${text}': empty`)
  return addr
}

export function parsePositiveInt (text: string | undefined, name: string, fallback: number, allowZero = false): number {
  if (text === undefined) return fallback
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < (allowZero ? 0 : 1)) throw new UsageError(`--${name} must be a${allowZero ? ' non-negative' : ' positive'} integer, got '${text}'`)
  return n
}

/** One line, whatever the error looks like (dial errors list every address tried). */
export function oneLine (err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  return message.replace(/\s*\n\s*/g, '; ').trim()
}
