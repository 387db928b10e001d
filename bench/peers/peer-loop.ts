/**
 * The control loop every benchmark peer program runs: it prints one
 * `{"event":"ready",...}` line on stdout, then reads one JSON command per line on stdin and
 * answers each with exactly one `{"id":..,"ok":true|false,...}` line. stdout carries nothing
 * else (logs go to stderr), so the orchestrator (bench/run.ts) never has to guess readiness.
 *
 * Commands every peer understands, whatever its side:
 * - `cpu`: process.cpuUsage() of this process, in microseconds
 * - `mem`: RSS and heap after forced garbage collection (the process needs --expose-gc)
 * - `exit`: replies, then exits
 */
import { createInterface } from 'node:readline'
import { setTimeout as delay } from 'node:timers/promises'

export type Json = Record<string, unknown>
export interface Command extends Json { id: number, cmd: string }
export type CommandHandler = (req: Command) => Promise<Json>

function writeLine (obj: Json): void {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

export function log (side: string, ...parts: unknown[]): void {
  const text = parts.map(p => p instanceof Error ? (p.stack ?? p.message) : typeof p === 'string' ? p : JSON.stringify(p)).join(' ')
  process.stderr.write(`[bench ${side} ${process.pid}] ${text}\n`)
}

export function errorMessage (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/**
 * Collects garbage until the heap stops shrinking: one gc() pass leaves objects with
 * finalizers and weak references for the next one, and timers or sockets closed just before
 * may still hold memory until the event loop turns.
 */
export async function settleAndCollect (): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run the bench peers with --expose-gc')
  let previous = Infinity
  for (let pass = 0; pass < 6; pass++) {
    gc()
    await delay(20)
    const used = process.memoryUsage().heapUsed
    if (used >= previous * 0.995) break
    previous = used
  }
}

const builtins: Record<string, CommandHandler> = {
  async cpu () {
    const usage = process.cpuUsage()
    return { userUs: usage.user, systemUs: usage.system }
  },
  async mem () {
    await settleAndCollect()
    const m = process.memoryUsage()
    return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers }
  }
}

/**
 * Starts the loop: `start()` builds the peer and returns the ready line's fields; `handlers`
 * answer the side-specific commands. Commands run one after another, in arrival order.
 */
export async function runPeer (side: string, start: () => Promise<Json>, handlers: Record<string, CommandHandler>, stop: () => Promise<void>): Promise<void> {
  process.on('unhandledRejection', (err) => { log(side, 'unhandled rejection:', err) })
  let readyFields: Json
  try {
    readyFields = await start()
  } catch (err) {
    log(side, 'failed to start:', err)
    process.exit(1)
  }
  writeLine({ event: 'ready', pid: process.pid, ...readyFields })

  let queue = Promise.resolve()
  const shutdown = async (): Promise<void> => {
    const timer = setTimeout(() => process.exit(0), 5_000)
    try { await stop() } catch (err) { log(side, 'stop failed:', err) }
    clearTimeout(timer)
    process.exit(0)
  }
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false })
  lines.on('line', (line) => {
    if (line.trim() === '') return
    queue = queue.then(async () => {
      let req: Command
      try {
        req = JSON.parse(line) as Command
      } catch (err) {
        writeLine({ id: null, ok: false, error: `bad command line: ${errorMessage(err)}` })
        return
      }
      if (req.cmd === 'exit') {
        writeLine({ id: req.id, ok: true })
        await shutdown()
        return
      }
      const handler = handlers[req.cmd] ?? builtins[req.cmd]
      if (handler === undefined) {
        writeLine({ id: req.id, ok: false, error: `unknown command ${JSON.stringify(req.cmd)}` })
        return
      }
      try {
        writeLine({ ...(await handler(req)), id: req.id, ok: true })
      } catch (err) {
        log(side, `command ${req.cmd} failed:`, err)
        writeLine({ id: req.id, ok: false, error: errorMessage(err) })
      }
    })
  })
  lines.on('close', () => { void queue.then(shutdown) })
}

/** `--name value` flags into a map; every flag takes a value. */
export function parseFlags (argv: string[]): Map<string, string> {
  const flags = new Map<string, string>()
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]
    const value = argv[i + 1]
    if (!name.startsWith('--') || value === undefined) throw new Error(`bad arguments near ${JSON.stringify(name)}`)
    flags.set(name.slice(2), value)
  }
  return flags
}

export function requireFlag (flags: Map<string, string>, name: string): string {
  const value = flags.get(name)
  if (value === undefined) throw new Error(`missing --${name}`)
  return value
}

/** A non-negative integer field of a command. */
export function intField (req: Command, name: string): number {
  const value = req[name]
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new Error(`"${name}" must be an integer >= 0`)
  return value
}
