/** The machine the resource manager's defaults scale from, in Node.js: total memory and the open-files limit. */
import { totalmem } from 'node:os'
import { readFileSync } from 'node:fs'

export function machineFacts (): { memory: number, fds: number } {
  return { memory: totalmem(), fds: openFilesLimit() }
}

/** The soft RLIMIT_NOFILE from /proc (Linux); 1024, the common default, where it cannot be read. */
function openFilesLimit (): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find(l => l.startsWith('Max open files'))
    const soft = Number(line?.split(/\s{2,}/)[1])
    return Number.isSafeInteger(soft) && soft > 0 ? soft : 1024
  } catch {
    return 1024
  }
}
