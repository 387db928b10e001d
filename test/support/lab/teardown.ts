/**
 * Teardown that always happens: every live lab is registered here, and one set of process
 * handlers (exit, SIGINT, SIGTERM) destroys what is left when a test fails, times out or the
 * run is interrupted. Labs of processes that died without teardown (kill -9) are swept by name
 * the next time a lab is built: namespace names carry the pid of the process that made them.
 */
import { runQuietlySync } from './commands.ts'
import { killNamespaceProcessesSync } from './namespace.ts'

export interface Destroyable { destroySync(): void }

const live = new Set<Destroyable>()
let handlersInstalled = false

/** The prefix of every namespace the lab creates; followed by the creating pid. */
export const LAB_PREFIX = 'tslab'

export function registerForTeardown (item: Destroyable): void {
  live.add(item)
  installHandlers()
}

export function unregisterForTeardown (item: Destroyable): void {
  live.delete(item)
}

function destroyAllSync (): void {
  for (const item of [...live]) {
    live.delete(item)
    item.destroySync()
  }
}

function installHandlers (): void {
  if (handlersInstalled) return
  handlersInstalled = true
  process.on('exit', destroyAllSync)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      destroyAllSync()
      // Then die of the signal as if we had not been listening.
      process.removeListener(signal, onSignal)
      process.kill(process.pid, signal)
    }
    process.on(signal, onSignal)
  }
}

/** Deletes namespaces left by lab processes that no longer exist. */
export function sweepStaleLabsSync (): void {
  const pattern = new RegExp(`^${LAB_PREFIX}(\\d+)x`)
  for (const line of runQuietlySync('ip', ['netns', 'list']).split('\n')) {
    const name = line.split(' ')[0]
    const match = pattern.exec(name)
    if (match == null) continue
    const pid = Number(match[1])
    if (pid === process.pid || isAlive(pid)) continue
    killNamespaceProcessesSync(name)
    runQuietlySync('ip', ['netns', 'del', name])
  }
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
