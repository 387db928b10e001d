/**
 * Helpers to run the real `ts-libp2p` command as a child process (process.execPath +
 * bin/ts-libp2p.js) and wait for output lines, never for a fixed time.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'

export const BIN = fileURLToPath(new URL('../../bin/ts-libp2p.js', import.meta.url))

export interface CliResult { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }

/** Runs a command to completion (killed after `timeoutMs`). */
export async function runCli (args: string[], options: { cwd?: string, env?: NodeJS.ProcessEnv, timeoutMs?: number } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: { ...process.env, DEBUG: '', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, options.timeoutMs ?? 30_000)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(resolve => { child.on('close', (c, s) => { resolve([c, s]) }) })
  clearTimeout(timer)
  return { code, signal, stdout, stderr }
}

export interface RunningCli {
  child: ChildProcess
  /** Resolves with the first stdout line matching `match`. */
  nextLine(stream: 'stdout' | 'stderr', match?: (line: string) => boolean, timeoutMs?: number): Promise<string>
  /** Skips every line received so far, so the next nextLine() sees only later ones. */
  skipReceived(stream: 'stdout' | 'stderr'): void
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
  stderrText(): string
}

/** Starts a long-running command (e.g. `start`). */
export function startCli (args: string[], options: { cwd?: string, env?: NodeJS.ProcessEnv } = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: { ...process.env, DEBUG: '', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: Record<'stdout' | 'stderr', string[]> = { stdout: [], stderr: [] }
  const waiters: Record<'stdout' | 'stderr', Array<() => void>> = { stdout: [], stderr: [] }
  let stderrAll = ''
  for (const name of ['stdout', 'stderr'] as const) {
    const rl = createInterface({ input: child[name]! })
    rl.on('line', (line) => {
      if (name === 'stderr') stderrAll += line + '\n'
      lines[name].push(line)
      for (const w of waiters[name].splice(0)) w()
    })
  }
  const exited = new Promise<number | null>(resolve => { child.on('exit', (code) => { resolve(code) }) })
  const consumed: Record<'stdout' | 'stderr', number> = { stdout: 0, stderr: 0 }
  return {
    child,
    skipReceived (stream) { consumed[stream] = lines[stream].length },
    async nextLine (stream, match = () => true, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        while (consumed[stream] < lines[stream].length) {
          const line = lines[stream][consumed[stream]++]
          if (match(line)) return line
        }
        if (child.exitCode !== null) throw new Error(`process exited (${child.exitCode}) before the expected ${stream} line; stderr: ${stderrAll}`)
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`no matching ${stream} line within ${timeoutMs} ms; stderr: ${stderrAll}`)
        await new Promise<void>(resolve => {
          const t = setTimeout(resolve, left)
          const wake = (): void => { clearTimeout(t); resolve() }
          waiters[stream].push(wake)
          child.once('exit', wake)
        })
      }
    },
    async stop (signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal)
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 15_000)
      try { return await exited } finally { clearTimeout(timer) }
    },
    stderrText: () => stderrAll
  }
}
