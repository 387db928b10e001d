/**
 * The parts of the JSON-lines control contract (interop/README.md) that the two TypeScript
 * interop peers share, interop/js-peer/peer.ts (js-libp2p) and interop/ts-peer/peer.ts (ours):
 * the output lines, the flags every peer takes, the echo payload and the command loop. Node
 * built-ins only, so each peer still loads nothing of the other implementation.
 */
import { readFileSync } from 'node:fs'

export type Json = Record<string, unknown>

// ---------------------------------------------------------------- output --

/** One line on stdout: a reply or an event. Nothing else goes to stdout. */
export function writeLine (obj: Json): void {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

export function emitEvent (event: string, fields: Json = {}): void {
  writeLine({ event, ...fields })
}

/** A logger to stderr whose lines start with `[tag]` and the time. */
export function stderrLog (tag: string): (...args: unknown[]) => void {
  return (...args) => {
    const parts = args.map(a => a instanceof Error ? (a.stack ?? a.message) : typeof a === 'string' ? a : JSON.stringify(a))
    process.stderr.write(`[${tag}] ${new Date().toISOString()} ${parts.join(' ')}\n`)
  }
}

/** The error's message, with its name in front when the message does not say it. */
export function errorMessage (err: unknown): string {
  if (err instanceof Error) return err.name !== 'Error' && !err.message.includes(err.name) ? `${err.name}: ${err.message}` : err.message
  return String(err)
}

// ----------------------------------------------------------------- flags --

export interface PeerFlags {
  listen: string[]
  muxer: 'yamux' | 'mplex'
  /** the connection encrypter (--security noise|tls) */
  security: 'noise' | 'tls'
  /** a private network key file (--psk FILE, pnet/Private-Networks-PSK-V1.md) */
  psk?: Uint8Array
  /** --key-seed HEX: the Ed25519 identity from these 32 bytes */
  keySeed?: Uint8Array
  agent?: string
}

/**
 * Parses the flags every peer takes (`--flag value` or `--flag=value`). `extra(flag, value)`
 * handles the peer's own flags, reading a flag's value with `value()`, and returns false for
 * one it does not know. With no --listen, the peer listens on /ip4/127.0.0.1/tcp/0.
 */
export function parsePeerFlags (argv: string[], extra: (flag: string, value: () => string) => boolean = () => false): PeerFlags {
  const flags: PeerFlags = { listen: [], muxer: 'yamux', security: 'noise' }
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]
    let inline: string | undefined
    const eq = arg.indexOf('=')
    if (arg.startsWith('--') && eq !== -1) {
      inline = arg.slice(eq + 1)
      arg = arg.slice(0, eq)
    }
    const value = (): string => {
      if (inline !== undefined) return inline
      const v = argv[++i]
      if (v === undefined) throw new Error(`${arg} needs a value`)
      return v
    }
    switch (arg) {
      case '--listen': flags.listen.push(value()); break
      case '--muxer': {
        const m = value()
        if (m !== 'yamux' && m !== 'mplex') throw new Error(`unknown muxer ${JSON.stringify(m)}`)
        flags.muxer = m
        break
      }
      case '--security': {
        const v = value()
        if (v !== 'noise' && v !== 'tls') throw new Error(`--security must be noise or tls, got ${JSON.stringify(v)}`)
        flags.security = v
        break
      }
      case '--psk': flags.psk = readFileSync(value()); break
      case '--key-seed': {
        const hex = value().replace(/^0x/, '')
        if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error('--key-seed must be 32 bytes of hex')
        flags.keySeed = Uint8Array.from(Buffer.from(hex, 'hex'))
        break
      }
      case '--agent': flags.agent = value(); break
      default:
        if (!extra(arg, value)) throw new Error(`unknown argument ${JSON.stringify(arg)}`)
    }
  }
  if (flags.listen.length === 0) flags.listen.push('/ip4/127.0.0.1/tcp/0')
  return flags
}

// --------------------------------------------------------------- payload --

/** The echo payload of interop/README.md (xorshift32, little-endian words, truncated); the go peer's patternBytes. */
export function patternBytes (length: number, index: number): Uint8Array {
  const out = new Uint8Array(length + 3)
  const view = new DataView(out.buffer)
  let x = Math.imul(index + 1, 0x9E3779B9) >>> 0
  if (x === 0) x = 1
  for (let i = 0; i < length; i += 4) {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    view.setUint32(i, x, true)
  }
  return out.subarray(0, length)
}

/** Why an echo came back wrong, or undefined when `got` equals `want`. */
export function echoMismatch (got: Uint8Array, want: Uint8Array): string | undefined {
  const n = Math.min(got.byteLength, want.byteLength)
  for (let i = 0; i < n; i++) {
    if (got[i] !== want[i]) {
      return `echo mismatch: got ${got.byteLength} bytes, want ${want.byteLength}; first difference at offset ${i} (got 0x${got[i].toString(16)}, want 0x${want[i].toString(16)})`
    }
  }
  return got.byteLength !== want.byteLength ? `echo mismatch: got ${got.byteLength} bytes, want ${want.byteLength} (common prefix equal)` : undefined
}

// ------------------------------------------------------------------ ping --

/**
 * The `ping` command's work: `req.count` pings (default 1) one after another through `pingOnce`,
 * the round-trip times in ms; the first failure ends it, saying how many pings had passed.
 */
export async function pingCommand (req: Json, pingOnce: () => Promise<number>): Promise<Json> {
  const count = typeof req.count === 'number' && req.count > 0 ? req.count : 1
  const rtts: number[] = []
  for (let i = 0; i < count; i++) {
    try {
      rtts.push(await pingOnce())
    } catch (err) {
      throw new Error(`ping failed after ${rtts.length} pings: ${errorMessage(err)}`)
    }
  }
  return { rtts }
}

/**
 * The `echo` command: `bytes` (default 1024) on each of `streams` (default 1) streams at once,
 * each checked by `echoOnce(index)`; fails naming how many streams failed and the first reason.
 */
export async function echoCommand (req: Json, echoOnce: (size: number, index: number) => Promise<void>): Promise<Json> {
  const size = typeof req.bytes === 'number' ? req.bytes : 1024
  if (!Number.isInteger(size) || size < 0) throw new Error('"bytes" must be an integer >= 0')
  const streams = typeof req.streams === 'number' && req.streams > 0 ? req.streams : 1
  const results = await Promise.allSettled(Array.from({ length: streams }, async (_, i) => { await echoOnce(size, i) }))
  const failures = results.flatMap((r, i) => r.status === 'rejected' ? [`stream ${i}: ${errorMessage(r.reason)}`] : [])
  if (failures.length > 0) throw new Error(`${failures.length} of ${streams} echo streams failed; first: ${failures[0]}`)
  return { streams, bytes: size }
}

// -------------------------------------------------------------- commands --

export interface Request extends Json {
  id?: unknown
  cmd?: string
  timeoutMs?: number
}

export interface CommandContext<N> {
  node: N
  signal: AbortSignal
  /** set to run something after the reply line has been written */
  afterReply?: () => void
}

export type CommandFn<N> = (req: Request, ctx: CommandContext<N>) => Promise<Json>

/** The peer's commands by name, each with its default time limit (a request's timeoutMs overrides it). */
export class Commands<N> {
  readonly #commands = new Map<string, { fn: CommandFn<N>, timeoutMs: number }>()
  readonly #log: (...args: unknown[]) => void
  readonly #stopped: AbortSignal

  /** `stopped` aborts every running command when the peer stops. */
  constructor (log: (...args: unknown[]) => void, stopped: AbortSignal) {
    this.#log = log
    this.#stopped = stopped
  }

  register (name: string, timeoutMs: number, fn: CommandFn<N>): void {
    if (this.#commands.has(name)) throw new Error(`duplicate command ${name}`)
    this.#commands.set(name, { fn, timeoutMs })
  }

  /** Runs one command line and writes exactly one reply line for it. */
  async dispatch (node: N, line: string): Promise<void> {
    let req: Request
    try {
      const parsed: unknown = JSON.parse(line)
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('command must be a JSON object')
      req = parsed as Request
    } catch (err) {
      this.#log('bad command line', line, err)
      writeLine({ id: null, ok: false, error: `invalid JSON: ${errorMessage(err)}` })
      return
    }
    const id = req.id ?? null
    const spec = typeof req.cmd === 'string' ? this.#commands.get(req.cmd) : undefined
    if (spec === undefined) {
      writeLine({ id, ok: false, error: `unknown command ${JSON.stringify(req.cmd)}` })
      return
    }
    const timeoutMs = typeof req.timeoutMs === 'number' && req.timeoutMs > 0 ? req.timeoutMs : spec.timeoutMs
    const ctx: CommandContext<N> = { node, signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), this.#stopped]) }
    const start = Date.now()
    try {
      writeLine({ ...await spec.fn(req, ctx), id, ok: true })
    } catch (err) {
      this.#log(`command ${String(req.cmd)} (id ${JSON.stringify(id)}) failed after ${Date.now() - start} ms:`, err)
      writeLine({ id, ok: false, error: errorMessage(err) })
    }
    ctx.afterReply?.()
  }
}
