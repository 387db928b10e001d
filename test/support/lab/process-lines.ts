/**
 * Reading a lab process's output line by line and waiting for a line (a readiness signal,
 * a result), never for a fixed time. Lines are kept, so a line printed before anyone waited
 * for it is not lost.
 */
import { createInterface } from 'node:readline'
import type { ChildProcess } from 'node:child_process'

export interface ProcessLines {
  readonly child: ChildProcess
  /** Resolves with the next unread stdout line that matches; rejects on exit or timeout. */
  nextLine(match?: (line: string) => boolean, timeoutMs?: number): Promise<string>
  /** Everything the process wrote to stderr so far (for failure messages). */
  stderr(): string
  /** Every stdout line so far, read or not. */
  stdoutText(): string
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it exited. */
  stop(graceMs?: number): Promise<void>
}

export function processLines (child: ChildProcess): ProcessLines {
  const stdout: string[] = []
  let consumed = 0
  let stderr = ''
  let wake: (() => void) | undefined
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve(); wake?.() }) })
  createInterface({ input: child.stdout! }).on('line', line => { stdout.push(line); wake?.() })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const hasExited = (): boolean => child.exitCode !== null || child.signalCode !== null

  return {
    child,
    async nextLine (match = () => true, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        while (consumed < stdout.length) {
          const line = stdout[consumed++]
          if (match(line)) return line
        }
        if (hasExited()) throw new Error(`process exited (${child.exitCode ?? child.signalCode}) before the expected line; stderr: ${stderr}`)
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`no matching line within ${timeoutMs} ms; stderr: ${stderr}`)
        await new Promise<void>(resolve => {
          const timer = setTimeout(() => { wake = undefined; resolve() }, left)
          wake = () => { clearTimeout(timer); wake = undefined; resolve() }
        })
      }
    },
    stderr: () => stderr,
    stdoutText: () => stdout.join('\n'),
    async stop (graceMs = 5_000) {
      if (hasExited()) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => { child.kill('SIGKILL') }, graceMs)
      try { await exited } finally { clearTimeout(timer) }
    }
  }
}
