/**
 * Whether this machine can run the Chromium tests, and what a test does when it cannot: it
 * skips saying why, except under CI (env CI=true), where Chromium must run and the test fails.
 * A missing Chromium is installed (Debian's `chromium`) by scripts/install-system-packages.sh
 * when we are root; the namespace mode also needs the NAT lab's `ip netns` (lab/availability.ts).
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { natLabUnavailableReason } from '../lab/index.ts'

/** Debian's Chromium; playwright-core drives it (no browser download, ever). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const INSTALL_SCRIPT = fileURLToPath(new URL('../../../scripts/install-system-packages.sh', import.meta.url))

let cached: string | undefined | null = null

/** Why Chromium cannot run here, or undefined when it can. Checked (and installed) once per process. */
export function chromiumUnavailableReason (): string | undefined {
  if (cached === null) cached = checkChromium()
  return cached
}

function checkChromium (): string | undefined {
  if (process.platform !== 'linux') return `the Chromium harness uses Debian's chromium package (this is ${process.platform})`
  if (existsSync(CHROMIUM_PATH)) return undefined
  if (process.getuid?.() !== 0) return `${CHROMIUM_PATH} is missing and we are not root to install Debian's chromium (run scripts/install-system-packages.sh chromium as root)`
  try {
    execFileSync('bash', [INSTALL_SCRIPT, 'chromium'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 600_000 })
  } catch (err) {
    return `installing Debian's chromium failed: ${(err as Error).message}`
  }
  return existsSync(CHROMIUM_PATH) ? undefined : `${CHROMIUM_PATH} is still missing after installing Debian's chromium`
}

/**
 * The `skip` option for a node:test suite that needs Chromium: false when it can run, the reason
 * when it cannot; under CI it throws, so the suite fails rather than silently skipping.
 */
export function chromiumSkip (): string | false {
  return orFailUnderCi(chromiumUnavailableReason())
}

/** As chromiumSkip, for tests that run Chromium inside a network namespace (WebRTC). */
export async function chromiumInNamespaceSkip (): Promise<string | false> {
  return orFailUnderCi(chromiumUnavailableReason() ?? await natLabUnavailableReason())
}

function orFailUnderCi (reason: string | undefined): string | false {
  if (reason === undefined) return false
  if (process.env.CI === 'true') throw new Error(`CI must run the Chromium tests, but ${reason}`)
  return reason
}
