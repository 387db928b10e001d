/**
 * Running a command on a real pseudo-terminal: util-linux `script` gives it a pty for stdout
 * and stderr, and what the terminal showed comes back (control characters included).
 */
import { spawn, execFileSync } from 'node:child_process'
import { BIN } from './run-cli.ts'

export function hasScript (): boolean {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Runs the CLI with `args` under `script`, so stdout and stderr are a terminal; resolves with what the terminal showed. */
export function runOnTerminal (args: string[]): Promise<{ code: number | null, screen: string }> {
  const command = [process.execPath, BIN, ...args].map(a => `'${a.replace(/'/g, "'\\''")}'`).join(' ')
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { env: { ...process.env, DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let screen = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { screen += d })
  return new Promise(resolve => { child.on('exit', code => { resolve({ code, screen }) }) })
}
