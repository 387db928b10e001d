/**
 * One network namespace of the lab and the processes started inside it. The namespace owns its
 * processes: `destroySync()` kills every process inside (ours and whatever they started) and
 * deletes the namespace, which takes its interfaces with it. Teardown is synchronous on purpose,
 * so it also runs from `process.on('exit')` after a failed test or a SIGINT.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import type { ChildProcess, SpawnOptions } from 'node:child_process'
import { run, runIn, runQuietlySync } from './commands.ts'

export class NetworkNamespace {
  readonly name: string
  #destroyed = false

  private constructor (name: string) {
    this.name = name
  }

  /** Creates namespace `name` with its loopback up. */
  static async create (name: string): Promise<NetworkNamespace> {
    await run('ip', ['netns', 'add', name])
    const namespace = new NetworkNamespace(name)
    try {
      await namespace.ip(['link', 'set', 'lo', 'up'])
    } catch (err) {
      namespace.destroySync()
      throw err
    }
    return namespace
  }

  /** `ip -n <this> ...args` */
  async ip (args: readonly string[]): Promise<string> {
    return await run('ip', ['-n', this.name, ...args])
  }

  /** Runs a command inside this namespace and returns its stdout. */
  async exec (file: string, args: readonly string[]): Promise<string> {
    return await runIn(this.name, file, args)
  }

  /** Starts a long-running process inside this namespace; `destroySync()` kills it. */
  spawn (file: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    if (this.#destroyed) throw new Error(`namespace ${this.name} is destroyed`)
    // `ip netns exec` enters the namespace and then execs the program: same pid, so killing the
    // child kills the program.
    return spawn('ip', ['netns', 'exec', this.name, file, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options })
  }

  /** Kills every process inside the namespace and deletes it. Idempotent; never throws. */
  destroySync (): void {
    if (this.#destroyed) return
    this.#destroyed = true
    killNamespaceProcessesSync(this.name)
    runQuietlySync('ip', ['netns', 'del', this.name])
  }
}

const KILL_WAIT_MS = 2_000
const KILL_POLL_MS = 10

/**
 * SIGKILLs every process whose network namespace is `name` (the lab started all of them) and
 * waits, at most KILL_WAIT_MS, until none of them runs any more: a SIGKILL is delivered
 * asynchronously, so without the wait a caller could still see them alive.
 */
export function killNamespaceProcessesSync (name: string): void {
  const pids: number[] = []
  for (const pid of runQuietlySync('ip', ['netns', 'pids', name]).split('\n')) {
    const n = Number.parseInt(pid, 10)
    if (!Number.isInteger(n) || n <= 1 || n === process.pid) continue
    try { process.kill(n, 'SIGKILL') } catch {}
    pids.push(n)
  }
  const pause = new Int32Array(new SharedArrayBuffer(4))
  const giveUpAt = Date.now() + KILL_WAIT_MS
  while (pids.some(processRuns) && Date.now() < giveUpAt) Atomics.wait(pause, 0, 0, KILL_POLL_MS)
}

/**
 * True while `pid` is a live process. A killed process whose parent has not reaped it yet (a
 * zombie: orphans of a SIGKILLed lab wait for init) no longer runs, though signal 0 still finds it.
 */
export function processRuns (pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    // /proc/PID/stat: "pid (comm) state ...": the state follows the last ')'
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}
