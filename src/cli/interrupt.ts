/**
 * Ctrl-C for one-shot commands: a signal that aborts on the first SIGINT or SIGTERM, so the
 * command stops its work, closes what it opened and exits 130 (the shell's code for an
 * interrupted command) instead of dying mid-write; a second signal exits at once.
 */
import { Libp2pError } from '../util/errors.ts'

export const INTERRUPTED_EXIT_CODE = 130

export interface Interrupt {
  readonly signal: AbortSignal
  /** Removes the handlers (the command finished on its own). */
  dispose(): void
}

export function interruptOnSignal (): Interrupt {
  const controller = new AbortController()
  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      process.stderr.write(`\nts-libp2p: ${name} again, exiting at once\n`)
      process.exit(INTERRUPTED_EXIT_CODE)
    }
    controller.abort(new InterruptedError(name))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return {
    signal: controller.signal,
    dispose () {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}

/** The command was interrupted by a signal (Ctrl-C). */
export class InterruptedError extends Libp2pError {
  constructor (signal: string) {
    super(`interrupted by ${signal}`, 'ERR_INTERRUPTED')
    this.name = 'InterruptedError'
  }
}
