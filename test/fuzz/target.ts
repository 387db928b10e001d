/**
 * What a fuzz target is, and which errors count as a decoder's answer to bad input. A target
 * passes when, for any input, the decoder returns or throws a typed error (a Libp2pError, with
 * a stable `code`); anything else (TypeError, RangeError, a hang, an allocation the input size
 * does not justify) is a crash.
 */
import { Libp2pError } from '../../src/util/errors.ts'

export interface FuzzTarget {
  name: string
  /** Decodes `input`; throws (or rejects with) only what the decoder threw. */
  run(input: Uint8Array): void | Promise<void>
  /** Errors of other libraries that the decoder lets through on purpose (e.g. the multiaddr package's). */
  foreignErrors?: boolean
  /** File URLs of directories besides src/ whose coverage guides this target (a library's decoder). */
  coverage?: string[]
  /** Tokens the format compares against, spliced into inputs besides the common dictionary. */
  dictionary?: Uint8Array[]
}

/** True when `err` is what a decoder may throw on bad input. */
export function isTypedError (err: unknown, target: FuzzTarget): boolean {
  if (err instanceof Libp2pError && typeof err.code === 'string') return true
  return target.foreignErrors === true && err instanceof Error && !(err instanceof TypeError && /undefined|null|not a function/.test(err.message)) && !(err instanceof RangeError && /Maximum call stack|Invalid array length|Array buffer allocation/.test(err.message))
}
