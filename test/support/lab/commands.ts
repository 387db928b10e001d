/**
 * Running the system commands the NAT lab is built from (`ip`, `iptables`, `ethtool`): every
 * call has a time limit and fails with the command's own stderr, so a lab that cannot be built
 * says exactly which step broke. Synchronous twins exist only for teardown on process exit,
 * where nothing asynchronous runs any more.
 */
import { execFile, execFileSync } from 'node:child_process'

export class LabCommandError extends Error {
  override name = 'LabCommandError' as const
  readonly code = 'ERR_LAB_COMMAND'
  readonly command: string
  readonly stderr: string
  constructor (command: string, stderr: string) {
    super(`lab command failed: ${command}: ${stderr.trim()}`)
    this.command = command
    this.stderr = stderr
  }
}

/** Generous: `ip netns add` on a loaded 2-core machine takes tens of milliseconds, not seconds. */
const COMMAND_TIMEOUT_MS = 20_000

/** Runs `file args`; resolves with stdout, rejects with a LabCommandError carrying stderr. */
export async function run (file: string, args: readonly string[]): Promise<string> {
  return await new Promise((resolve, reject) => {
    execFile(file, args, { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err != null) reject(new LabCommandError(`${file} ${args.join(' ')}`, stderr !== '' ? stderr : err.message))
      else resolve(stdout)
    })
  })
}

/** Runs `file args` inside network namespace `ns`. */
export async function runIn (ns: string, file: string, args: readonly string[]): Promise<string> {
  return await run('ip', ['netns', 'exec', ns, file, ...args])
}

/** Teardown only: runs synchronously and ignores failure (the thing may already be gone). */
export function runQuietlySync (file: string, args: readonly string[]): string {
  try {
    return execFileSync(file, args, { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  } catch {
    return ''
  }
}
