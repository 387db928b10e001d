/**
 * Helpers for interop tests: build and spawn the reference peers in
 * interop/go-peer (go-libp2p) and interop/js-peer (js-libp2p) and drive them
 * through the JSON-lines control contract described in interop/README.md.
 *
 * This module contains no tests itself. Typical use:
 *
 *   const a = await spawnPeer('go', [])
 *   const b = await spawnPeer('js', ['--muxer', 'mplex'])
 *   await b.commandOk({ cmd: 'dial', addr: a.addrs[0] })
 *   const r = await b.commandOk({ cmd: 'echo', peer: a.peerId, bytes: 1024 })
 *   await stopAll()   // in an after() hook
 *
 * Set INTEROP_DEBUG=1 to copy the peers' stderr to this process' stderr.
 */
import { spawn, execFile } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'
import { constants as osConstants } from 'node:os'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { mkdir, readdir, rename, stat, rm } from 'node:fs/promises'
import { ensureVenv } from '../../interop/python/setup.ts'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const GO_PEER_DIR = join(REPO_ROOT, 'interop', 'go-peer')
export const GO_PEER_BIN = join(GO_PEER_DIR, 'bin', 'go-peer')
export const JS_PEER_SCRIPT = join(REPO_ROOT, 'interop', 'js-peer', 'peer.ts')
/** ts-libp2p itself behind the same contract; exits non-zero if its stopped node leaks. */
export const TS_PEER_SCRIPT = join(REPO_ROOT, 'interop', 'ts-peer', 'peer.ts')

/** py-libp2p 0.8 behind the same contract (interop/py-peer/peer.py, its venv made on first use). */
export const PY_PEER_DIR = join(REPO_ROOT, 'interop', 'py-peer')

/** rust-libp2p behind the same contract (interop/rust-peer, built with cargo on first use). */
export const RUST_PEER_DIR = join(REPO_ROOT, 'interop', 'rust-peer')
/** cargo's target directory: git-ignored, kept between runs so only changed sources rebuild. */
export const RUST_PEER_TARGET = join(REPO_ROOT, '.cache', 'rust-peer-target')
export const RUST_PEER_BIN = join(RUST_PEER_TARGET, 'release', 'rust-peer')

export type PeerKind = 'go' | 'js' | 'ts' | 'py' | 'rust'

/** Any JSON object line printed by a peer on stdout. */
export type PeerLine = Record<string, any>

/** A reply: {"id":..,"ok":true,...} or {"id":..,"ok":false,"error":".."}. */
export interface Reply extends PeerLine {
  id: unknown
  ok: boolean
  error?: string
}

/** An event: {"event":"peer:connect","peerId":..} etc. */
export interface PeerEvent extends PeerLine {
  event: string
}

export interface SpawnOptions {
  /** how long to wait for the ready line (default 60 s) */
  readyTimeoutMs?: number
  /** extra environment variables for the child */
  env?: Record<string, string>
  /** copy the child's stderr to ours (default: INTEROP_DEBUG is set) */
  inheritStderr?: boolean
  /** another peer program of the same kind (js/ts) speaking the contract, e.g. interop/js-peer/helia-peer.ts */
  script?: string
}

export interface WaitEventOptions {
  /**
   * Only consider events with this index or later in `events` (default 0:
   * events that already arrived count too). Use `peer.events.length` taken
   * before an action to wait only for events caused by it.
   */
  since?: number
}

const DEFAULT_COMMAND_TIMEOUT_MS = 120_000
const COMMAND_TIMEOUT_SLACK_MS = 5_000
const STDERR_TAIL_BYTES = 16 * 1024

// ------------------------------------------------------------ go build --

let goBuild: Promise<string> | undefined

/** True if a `go` toolchain is on PATH (for skipping go tests). */
export async function goAvailable (): Promise<boolean> {
  try {
    await run('go', ['version'], { cwd: REPO_ROOT, timeoutMs: 30_000 })
    return true
  } catch {
    return false
  }
}

/**
 * Build interop/go-peer once per process and return the binary path
 * (interop/go-peer/bin/go-peer). The build is skipped when the binary is newer
 * than every *.go, go.mod and go.sum file. Safe against concurrent test
 * processes: each builds to its own temporary name, then renames.
 */
export function buildGoPeer (): Promise<string> {
  goBuild ??= doBuildGoPeer().catch((err) => {
    goBuild = undefined
    throw err
  })
  return goBuild
}

async function doBuildGoPeer (): Promise<string> {
  let newestSource = 0
  for (const name of await readdir(GO_PEER_DIR)) {
    if (name.endsWith('.go') || name === 'go.mod' || name === 'go.sum') {
      newestSource = Math.max(newestSource, (await stat(join(GO_PEER_DIR, name))).mtimeMs)
    }
  }
  try {
    if ((await stat(GO_PEER_BIN)).mtimeMs >= newestSource) return GO_PEER_BIN
  } catch {
    // no binary yet
  }
  await mkdir(join(GO_PEER_DIR, 'bin'), { recursive: true })
  const tmp = `${GO_PEER_BIN}.tmp-${process.pid}-${Date.now()}`
  try {
    // first build on a fresh machine downloads modules: be generous
    await run('go', ['build', '-o', tmp, '.'], { cwd: GO_PEER_DIR, timeoutMs: 600_000 })
    await rename(tmp, GO_PEER_BIN)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  return GO_PEER_BIN
}

// ---------------------------------------------------------- rust build --

let rustBuild: Promise<string> | undefined

/** True if a `cargo` toolchain is on PATH (for skipping rust tests outside CI). */
export async function cargoAvailable (): Promise<boolean> {
  try {
    await run('cargo', ['--version'], { cwd: REPO_ROOT, timeoutMs: 30_000 })
    return true
  } catch {
    return false
  }
}

/**
 * Build interop/rust-peer once per process (`cargo build --release --locked`, target directory
 * .cache/rust-peer-target) and return the binary path. Skipped when the binary is newer than
 * every source, Cargo.toml and Cargo.lock. A cold build compiles rust-libp2p (minutes on two
 * cores; it downloads crates on first use); concurrent test processes wait on cargo's own
 * lock of the target directory.
 */
export function buildRustPeer (): Promise<string> {
  rustBuild ??= doBuildRustPeer().catch((err) => {
    rustBuild = undefined
    throw err
  })
  return rustBuild
}

async function newestMtime (dir: string, keep: (name: string) => boolean): Promise<number> {
  let newest = 0
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, await newestMtime(path, keep))
    else if (keep(entry.name)) newest = Math.max(newest, (await stat(path)).mtimeMs)
  }
  return newest
}

async function doBuildRustPeer (): Promise<string> {
  const newestSource = Math.max(
    await newestMtime(join(RUST_PEER_DIR, 'src'), name => name.endsWith('.rs')),
    await newestMtime(RUST_PEER_DIR, name => name === 'Cargo.toml' || name === 'Cargo.lock').catch(() => 0)
  )
  try {
    if ((await stat(RUST_PEER_BIN)).mtimeMs >= newestSource) return RUST_PEER_BIN
  } catch {
    // no binary yet
  }
  await mkdir(RUST_PEER_TARGET, { recursive: true })
  // nice: other test files run beside the build on a two-core machine
  await run('nice', ['-n', '10', 'cargo', 'build', '--release', '--locked', '--manifest-path', join(RUST_PEER_DIR, 'Cargo.toml')], {
    cwd: RUST_PEER_DIR,
    timeoutMs: 1_800_000,
    env: { CARGO_TARGET_DIR: RUST_PEER_TARGET }
  })
  return RUST_PEER_BIN
}

function run (cmd: string, args: string[], opts: { cwd: string, timeoutMs: number, env?: Record<string, string> }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: opts.cwd, timeout: opts.timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...opts.env } }, (err, stdout, stderr) => {
      if (err != null) {
        reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`))
      } else {
        resolve(stdout)
      }
    })
  })
}

// -------------------------------------------------------------- spawning --

const running = new Set<PeerProcess>()

/**
 * Start a peer and wait for its ready line. Rejects if the process exits (or
 * prints something unparseable as its first line) before it is ready, or if
 * it is not ready within `readyTimeoutMs`.
 */
export async function spawnPeer (kind: PeerKind, args: string[] = [], opts: SpawnOptions = {}): Promise<PeerProcess> {
  let cmd: string
  let argv: string[]
  if (kind === 'go') {
    cmd = await buildGoPeer()
    argv = args
  } else if (kind === 'rust') {
    cmd = await buildRustPeer()
    argv = args
  } else if (kind === 'js' || kind === 'ts') {
    cmd = process.execPath
    argv = [opts.script ?? (kind === 'js' ? JS_PEER_SCRIPT : TS_PEER_SCRIPT), ...args]
  } else if (kind === 'py') {
    cmd = await ensureVenv(PY_PEER_DIR)
    argv = [join(PY_PEER_DIR, 'peer.py'), ...args]
  } else {
    throw new Error(`unknown peer kind ${String(kind)}`)
  }
  const child = spawn(cmd, argv, {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env }
  })
  const peer = new PeerProcess(kind, child, opts.inheritStderr ?? (process.env.INTEROP_DEBUG != null && process.env.INTEROP_DEBUG !== ''))
  running.add(peer)
  void peer.exited.then(() => running.delete(peer))
  try {
    await peer.waitReady(opts.readyTimeoutMs ?? 60_000)
  } catch (err) {
    peer.kill()
    throw err
  }
  return peer
}

/** Stop every peer spawned by this process that is still running. */
export async function stopAll (timeoutMs = 10_000): Promise<void> {
  await Promise.all([...running].map(async p => await p.stop(timeoutMs)))
}

interface Pending {
  resolve: (r: Reply) => void
  reject: (e: Error) => void
  timer: ReturnType<typeof setTimeout>
}

interface EventWaiter {
  pred: (e: PeerEvent) => boolean
  resolve: (e: PeerEvent) => void
}

export interface ExitInfo {
  code: number | null
  signal: NodeJS.Signals | null
}

export class PeerProcess {
  readonly kind: PeerKind
  readonly child: ChildProcessWithoutNullStreams
  /** set once ready */
  peerId = ''
  /** listen addresses including /p2p/<peerId>, from the ready line */
  addrs: string[] = []
  /** every event line received so far (including "ready") */
  readonly events: PeerEvent[] = []
  /** lines on stdout that were not JSON objects (contract violations) */
  readonly badLines: string[] = []
  /** resolves when the process has exited */
  readonly exited: Promise<ExitInfo>
  exitInfo: ExitInfo | undefined

  #nextId = 1
  #pending = new Map<string, Pending>()
  #eventWaiters = new Set<EventWaiter>()
  #stderrTail = ''
  #ready: Promise<PeerEvent>
  #resolveReady!: (e: PeerEvent) => void
  #rejectReady!: (e: Error) => void
  #isReady = false

  constructor (kind: PeerKind, child: ChildProcessWithoutNullStreams, inheritStderr: boolean) {
    this.kind = kind
    this.child = child
    this.#ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve
      this.#rejectReady = reject
    })
    this.#ready.catch(() => {})

    child.stderr.on('data', (buf: Buffer) => {
      const s = buf.toString('utf8')
      this.#stderrTail = (this.#stderrTail + s).slice(-STDERR_TAIL_BYTES)
      if (inheritStderr) process.stderr.write(s.replace(/^(?=.)/gm, `[${this.label}] `))
    })
    child.stdin.on('error', () => { /* EPIPE after exit: reported via 'exit' */ })

    const rl = createInterface({ input: child.stdout, crlfDelay: Infinity })
    rl.on('line', (line) => { this.#onLine(line) })

    this.exited = new Promise((resolve) => {
      child.on('error', (err) => {
        this.#stderrTail += `\n[spawn error] ${err.message}`
        this.#onExit({ code: null, signal: null }, resolve)
      })
      // 'close' fires after stdout has been fully read, so no reply is lost
      child.on('close', (code, signal) => { this.#onExit({ code, signal }, resolve) })
    })
  }

  get label (): string {
    return `${this.kind}-peer${this.peerId !== '' ? ' ' + this.peerId.slice(-6) : ''} pid ${this.child.pid ?? '?'}`
  }

  /** last ~16 KiB of the peer's stderr, for diagnostics */
  get stderr (): string {
    return this.#stderrTail
  }

  /** the ready line's resolution; used by spawnPeer */
  async waitReady (timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(this.#error(`not ready within ${timeoutMs} ms`)) }, timeoutMs)
    })
    try {
      await Promise.race([this.#ready, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Send a command and wait for its reply (matched by id). An id is assigned
   * when `obj.id` is missing. Resolves with the reply whether ok is true or
   * false; rejects on timeout or if the process exits first. The timeout is
   * `timeoutMs`, else obj.timeoutMs + 5 s, else 125 s (the longest
   * default of a peer command is 120 s).
   */
  command (obj: Record<string, unknown>, timeoutMs?: number): Promise<Reply> {
    const id = obj.id ?? this.#nextId++
    const key = JSON.stringify(id)
    const limit = timeoutMs ??
      (typeof obj.timeoutMs === 'number' ? obj.timeoutMs : DEFAULT_COMMAND_TIMEOUT_MS) + COMMAND_TIMEOUT_SLACK_MS
    return new Promise<Reply>((resolve, reject) => {
      if (this.exitInfo != null) {
        reject(this.#error(`cannot send ${String(obj.cmd)}: process already exited`))
        return
      }
      if (this.#pending.has(key)) {
        reject(new Error(`command id ${key} is already in flight`))
        return
      }
      const timer = setTimeout(() => {
        this.#pending.delete(key)
        reject(this.#error(`no reply to ${JSON.stringify({ ...obj, id })} within ${limit} ms`))
      }, limit)
      this.#pending.set(key, { resolve, reject, timer })
      this.child.stdin.write(JSON.stringify({ ...obj, id }) + '\n')
    })
  }

  /** Like command(), but rejects when the reply has ok:false. */
  async commandOk (obj: Record<string, unknown>, timeoutMs?: number): Promise<Reply> {
    const r = await this.command(obj, timeoutMs)
    if (!r.ok) throw new Error(`${this.label}: ${String(obj.cmd)} failed: ${r.error ?? JSON.stringify(r)}`)
    return r
  }

  /** Wait for an event line matching `pred` (see WaitEventOptions.since). */
  waitEvent (pred: (e: PeerEvent) => boolean, timeoutMs = 10_000, opts: WaitEventOptions = {}): Promise<PeerEvent> {
    for (let i = opts.since ?? 0; i < this.events.length; i++) {
      if (pred(this.events[i])) return Promise.resolve(this.events[i])
    }
    return new Promise<PeerEvent>((resolve, reject) => {
      const waiter: EventWaiter = {
        pred,
        resolve: (e) => { clearTimeout(timer); this.#eventWaiters.delete(waiter); resolve(e) }
      }
      const timer = setTimeout(() => {
        this.#eventWaiters.delete(waiter)
        reject(this.#error(`no matching event within ${timeoutMs} ms (events so far: ${JSON.stringify(this.events.slice(-10))})`))
      }, timeoutMs)
      this.#eventWaiters.add(waiter)
    })
  }

  /**
   * Send stop, close stdin and wait for the process to exit; SIGTERM then
   * SIGKILL if it does not within timeoutMs. Returns the exit code (128 +
   * signal number if it was killed by a signal).
   */
  async stop (timeoutMs = 10_000): Promise<number> {
    if (this.exitInfo == null) {
      this.command({ cmd: 'stop' }, timeoutMs).catch(() => {})
      this.child.stdin.end()
      if (!await this.#waitExit(timeoutMs)) {
        this.child.kill('SIGTERM')
        if (!await this.#waitExit(2_000)) {
          this.child.kill('SIGKILL')
        }
      }
    }
    const info = await this.exited
    if (info.code != null) return info.code
    const signo = info.signal != null ? (osConstants.signals as Record<string, number>)[info.signal] : undefined
    return signo != null ? 128 + signo : -1
  }

  /** Kill immediately (SIGKILL); for cleanup after failures. */
  kill (): void {
    if (this.exitInfo == null) this.child.kill('SIGKILL')
  }

  async #waitExit (ms: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const t = new Promise<false>((resolve) => { timer = setTimeout(() => { resolve(false) }, ms) })
    try {
      return await Promise.race([this.exited.then(() => true), t])
    } finally {
      clearTimeout(timer)
    }
  }

  #error (msg: string): Error {
    const tail = this.#stderrTail.split('\n').slice(-30).join('\n')
    return new Error(`${this.label}: ${msg}${tail.trim() !== '' ? `\n--- stderr tail ---\n${tail}` : ''}`)
  }

  #onLine (line: string): void {
    let msg: unknown
    try {
      msg = JSON.parse(line)
    } catch {
      msg = undefined
    }
    if (msg == null || typeof msg !== 'object' || Array.isArray(msg)) {
      this.badLines.push(line)
      if (!this.#isReady) this.#rejectReady(this.#error(`unexpected stdout line before ready: ${line}`))
      return
    }
    const obj = msg as PeerLine
    if (typeof obj.event === 'string') {
      const ev = obj as PeerEvent
      this.events.push(ev)
      if (ev.event === 'ready' && !this.#isReady) {
        this.#isReady = true
        this.peerId = String(ev.peerId)
        this.addrs = Array.isArray(ev.addrs) ? ev.addrs.map(String) : []
        this.#resolveReady(ev)
      }
      for (const w of [...this.#eventWaiters]) {
        if (w.pred(ev)) w.resolve(ev)
      }
      return
    }
    if (typeof obj.ok === 'boolean') {
      const key = JSON.stringify(obj.id ?? null)
      const p = this.#pending.get(key)
      if (p != null) {
        this.#pending.delete(key)
        clearTimeout(p.timer)
        p.resolve(obj as Reply)
        return
      }
    }
    this.badLines.push(line)
  }

  #onExit (info: ExitInfo, resolve: (i: ExitInfo) => void): void {
    if (this.exitInfo != null) return
    this.exitInfo = info
    const why = `process exited (code ${String(info.code)}, signal ${String(info.signal)})`
    if (!this.#isReady) this.#rejectReady(this.#error(`${why} before ready`))
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer)
      p.reject(this.#error(`${why} before replying`))
    }
    this.#pending.clear()
    resolve(info)
  }
}
