/**
 * Whether this machine can build the NAT lab, and what a test does when it cannot: it skips
 * saying why, except under CI (env CI=true), where the lab must run and the test fails instead.
 * Missing commands are installed by scripts/install-system-packages.sh when we are root.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { run, runQuietlySync } from './commands.ts'
import { LAB_PREFIX } from './teardown.ts'

const INSTALL_SCRIPT = fileURLToPath(new URL('../../../scripts/install-system-packages.sh', import.meta.url))
const REQUIRED_COMMANDS = ['ip', 'iptables', 'conntrack', 'ethtool', 'python3']

let cached: Promise<string | undefined> | undefined

/** Why the lab cannot run here, or undefined when it can. Checked once per process. */
export async function natLabUnavailableReason (): Promise<string | undefined> {
  cached ??= checkNatLab()
  return await cached
}

async function checkNatLab (): Promise<string | undefined> {
  if (process.platform !== 'linux') return `the NAT lab needs Linux network namespaces (this is ${process.platform})`
  if (process.getuid?.() !== 0) return 'the NAT lab needs root (network namespaces, iptables)'
  if (REQUIRED_COMMANDS.some(missingCommand)) {
    try {
      execFileSync('bash', [INSTALL_SCRIPT], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 })
    } catch (err) {
      return `the NAT lab needs ${REQUIRED_COMMANDS.filter(missingCommand).join(', ')} and installing them failed: ${(err as Error).message}`
    }
    const still = REQUIRED_COMMANDS.filter(missingCommand)
    if (still.length > 0) return `the NAT lab needs ${still.join(', ')}`
  }
  const probe = `${LAB_PREFIX}${process.pid}xprobe`
  try {
    await run('ip', ['netns', 'add', probe])
    await run('ip', ['-n', probe, 'link', 'add', 'name', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1'])
    await run('ip', ['netns', 'exec', probe, 'iptables', '-t', 'nat', '-L', '-n'])
  } catch (err) {
    return `network namespaces, veths or iptables NAT do not work here: ${(err as Error).message}`
  } finally {
    runQuietlySync('ip', ['netns', 'del', probe])
  }
  return undefined
}

function missingCommand (command: string): boolean {
  return runQuietlySync('bash', ['-c', `command -v ${command} || ls /usr/sbin/${command} /sbin/${command}`]).trim() === ''
}

/**
 * The `skip` option for a node:test suite: false when the lab can run, the reason when it
 * cannot; under CI it throws, so the suite fails rather than silently skipping.
 */
export async function natLabSkip (): Promise<string | false> {
  const reason = await natLabUnavailableReason()
  if (reason === undefined) return false
  if (process.env.CI === 'true') throw new Error(`CI must run the NAT lab, but ${reason}`)
  return reason
}
