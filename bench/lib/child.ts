/**
 * A benchmark peer running as a child process, driven over JSON lines: `spawnPeer()` resolves
 * once the peer printed its ready line, `command()` sends one command and resolves with its
 * reply (or rejects with the peer's error, or on timeout, or when the peer dies).
 */
import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'

export type Json = Record<string, any>

const STDERR_TAIL = 8 * 1024
/** BENCH_NODE_ARGS: more node flags for every peer (e.g. --trace-gc, shown with --debug). */
const EXTRA_NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(arg => arg !== '')

export class PeerProcess {
  readonly name: string
  readonly ready: Json
  readonly #child: ChildProcessWithoutNullStreams
  readonly #pending = new Map<number, { resolve: (reply: Json) => void, reject: (err: Error) => void }>()
  #nextId = 1
  #exited: Error | undefined
  #stderr: string

  constructor (name: string, child: ChildProcessWithoutNullStreams, ready: Json, stderr: () => string, lines: ReturnType<typeof createInterface>, debugOut = false) {
    this.name = name
    this.ready = ready
    this.#child = child
    this.#stderr = ''
    lines.on('line', (line) => {
      let msg: Json
      try { msg = JSON.parse(line) } catch { if (debugOut) process.stderr.write(`${name}: ${line}\n`); return }
      const waiter = this.#pending.get(msg.id)
      if (waiter === undefined) return
      this.#pending.delete(msg.id)
      if (msg.ok === true) waiter.resolve(msg)
      else waiter.reject(new Error(`${name}: ${String(msg.error)}`))
    })
    child.on('exit', (code, signal) => {
      this.#stderr = stderr()
      this.#exited = new Error(`${name} exited (code ${code}, signal ${signal}); stderr tail:\n${this.#stderr}`)
      for (const waiter of this.#pending.values()) waiter.reject(this.#exited)
      this.#pending.clear()
    })
  }

  get pid (): number {
    return this.#child.pid ?? -1
  }

  command (cmd: string, fields: Json = {}, timeoutMs = 300_000): Promise<Json> {
    if (this.#exited !== undefined) return Promise.reject(this.#exited)
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new Error(`${this.name}: ${cmd} timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      this.#pending.set(id, {
        resolve: (reply) => { clearTimeout(timer); resolve(reply) },
        reject: (err) => { clearTimeout(timer); reject(err) }
      })
      this.#child.stdin.write(JSON.stringify({ ...fields, id, cmd }) + '\n')
    })
  }

  /** Asks the peer to exit; kills it if it has not within `timeoutMs`. */
  async stop (timeoutMs = 10_000): Promise<void> {
    if (this.#exited !== undefined) return
    const exited = new Promise<void>((resolve) => { this.#child.once('exit', () => { resolve() }) })
    this.#child.stdin.end()
    const timer = setTimeout(() => { this.#child.kill('SIGKILL') }, timeoutMs)
    await exited
    clearTimeout(timer)
  }
}

export interface SpawnPeerOptions {
  script: string
  args: string[]
  name: string
  /** Copy the peer's stderr to ours (BENCH_DEBUG=1). */
  inheritStderr?: boolean
  readyTimeoutMs?: number
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[]
  /** Run inside this network namespace (`ip netns exec`; the Chromium benches' labs). */
  netns?: string
}

export async function spawnPeer (options: SpawnPeerOptions): Promise<PeerProcess> {
  const nodeArgv = ['--expose-gc', '--no-warnings', ...EXTRA_NODE_ARGS, ...(options.nodeArgs ?? []), options.script, ...options.args]
  const child = spawn(options.netns === undefined ? process.execPath : 'ip', options.netns === undefined ? nodeArgv : ['netns', 'exec', options.netns, process.execPath, ...nodeArgv], {
    stdio: ['pipe', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (text: string) => {
    if (options.inheritStderr === true) process.stderr.write(text)
    stderr = (stderr + text).slice(-STDERR_TAIL)
  })
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity })
  const ready = await new Promise<Json>((resolve, reject) => {
    const timer = setTimeout(() => { fail(new Error(`${options.name}: no ready line within ${options.readyTimeoutMs ?? 60_000} ms`)) }, options.readyTimeoutMs ?? 60_000)
    const onLine = (line: string): void => {
      let msg: Json
      try { msg = JSON.parse(line) } catch { return }
      if (msg.event !== 'ready') return
      cleanup()
      resolve(msg)
    }
    const onExit = (code: number | null): void => { fail(new Error(`${options.name} exited with code ${code} before it was ready; stderr:\n${stderr}`)) }
    const fail = (err: Error): void => { cleanup(); child.kill('SIGKILL'); reject(err) }
    const cleanup = (): void => { clearTimeout(timer); lines.off('line', onLine); child.off('exit', onExit) }
    lines.on('line', onLine)
    child.on('exit', onExit)
  })
  return new PeerProcess(options.name, child, ready, () => stderr, lines, options.inheritStderr === true)
}
