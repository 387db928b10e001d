/**
 * The long-running commands' shutdown contract: the first SIGINT/SIGTERM runs a clean stop and
 * resolves with exit code 0 (1 if stopping failed); a second signal, or a stop that overruns
 * its bound, exits 1 at once so a wedged node can always be ended.
 */
import { unrefTimeout } from '../util/timers.ts'

const STOP_TIMEOUT_MS = 10_000

/** Resolves with the exit code once `stop` has run after a signal. */
export function stopOnSignal (stop: () => Promise<void>, what: string): Promise<number> {
  let stopping = false
  return new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        process.stderr.write(`ts-libp2p: ${signal} again, exiting without a clean stop\n`)
        process.exit(1)
      }
      stopping = true
      unrefTimeout(() => {
        process.stderr.write(`ts-libp2p: the ${what} did not stop in time\n`)
        process.exit(1)
      }, STOP_TIMEOUT_MS)
      stop().then(() => { resolve(0) }, (err: Error) => {
        process.stderr.write(`ts-libp2p: stopping failed: ${err.message}\n`)
        resolve(1)
      })
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}
