/**
 * A full garbage collection on demand, for a command about to start a measurement.
 *
 * Loading the modules and starting a node leave the heap close to V8's first old-generation
 * limit, so a fresh process's first connection used to run into a mark-compact (5-6 ms, about
 * a fifth of the perf contract's connection + 1-byte window) that collects start-up's garbage,
 * not the connection's. Collecting before the clock starts keeps that out of what the command
 * measures; the process's wall time is unchanged (the collection happens either way).
 *
 * `gc` is only exposed by a V8 flag; set at run time it applies to contexts created after it,
 * so the function comes from a fresh vm context (which shares the process's heap).
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

export function collectGarbageNow (): void {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as unknown
  if (typeof gc === 'function') (gc as () => void)()
}
