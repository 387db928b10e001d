/**
 * Launching Debian's Chromium through playwright-core, with nothing leaving the machine (no
 * background networking, component updates, sync or first-run fetches) and with a teardown
 * that proves no Chromium process is left: Playwright starts Chromium as the leader of its own
 * process group, so after `close()` we wait for that group to be empty, SIGKILLing it if the
 * browser did not exit by itself.
 *
 * With `namespace`, Chromium runs inside that network namespace (`ip netns exec`, which execs,
 * so the pid Playwright sees is Chromium's): WebRTC gathers no candidates on loopback
 * (../../../../shared LAB.md facts; test/support/browser/README.md).
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import type { Browser, BrowserServer } from 'playwright-core'
import { CHROMIUM_PATH } from './availability.ts'

/** Flags for a headless Chromium that sends no packet off the machine on its own. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox', // we run as root in CI; the sandbox refuses root
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-domain-reliability',
  '--no-pings'
]

/** Forces Chrome's coming behaviour: SDP munging of ice-ufrag/pwd throws (WebRTC Direct v2 only). */
export const NO_SDP_MUNGING_TRIAL = 'WebRTC-NoSdpMangleUfrag/Enabled/'

export interface LaunchChromiumOptions {
  /** Run inside this network namespace (by name). */
  namespace?: string
  /** Chromium field trials to force, e.g. NO_SDP_MUNGING_TRIAL. */
  fieldTrials?: readonly string[]
  /** More command-line flags. */
  args?: readonly string[]
  /** Launch timeout (default 30 s: a loaded 2-core machine is slow to start a browser). */
  timeoutMs?: number
}

export interface RunningChromium {
  readonly browser: Browser
  /** The pid of the browser process (leader of its process group). */
  readonly pid: number
  /** Closes the browser and returns once no process of its group is left. Idempotent. */
  close(): Promise<void>
}

const CLOSE_TIMEOUT_MS = 10_000
const EXIT_WAIT_MS = 5_000

export async function launchChromium (options: LaunchChromiumOptions = {}): Promise<RunningChromium> {
  const args = [...CHROMIUM_ARGS, ...(options.args ?? [])]
  if (options.fieldTrials !== undefined && options.fieldTrials.length > 0) args.push(`--force-fieldtrials=${options.fieldTrials.join('')}`)
  let wrapperDir: string | undefined
  let executablePath = CHROMIUM_PATH
  if (options.namespace !== undefined) {
    wrapperDir = mkdtempSync(join(tmpdir(), 'ts-libp2p-chromium-'))
    executablePath = join(wrapperDir, 'chromium-in-netns')
    writeFileSync(executablePath, `#!/bin/sh\nexec ip netns exec ${options.namespace} ${CHROMIUM_PATH} "$@"\n`)
    chmodSync(executablePath, 0o755)
  }
  // launchServer, not launch: only a BrowserServer tells us Chromium's pid, which the
  // teardown needs to prove that nothing is left. Its endpoint listens on 127.0.0.1 only.
  let server: BrowserServer
  try {
    server = await chromium.launchServer({ executablePath, headless: true, args, timeout: options.timeoutMs ?? 30_000, host: '127.0.0.1' })
  } catch (err) {
    if (wrapperDir !== undefined) rmSync(wrapperDir, { recursive: true, force: true })
    throw err
  }
  const pid = server.process().pid
  let browser: Browser
  try {
    if (pid === undefined) throw new Error('Playwright launched Chromium without a process')
    browser = await chromium.connect(server.wsEndpoint(), { timeout: options.timeoutMs ?? 30_000 })
  } catch (err) {
    await server.kill()
    if (wrapperDir !== undefined) rmSync(wrapperDir, { recursive: true, force: true })
    throw err
  }
  let closing: Promise<void> | undefined
  return {
    browser,
    pid,
    async close () {
      closing ??= (async () => {
        try {
          await withTimeout(browser.close(), CLOSE_TIMEOUT_MS)
          await withTimeout(server.close(), CLOSE_TIMEOUT_MS)
        } catch {}
        killGroupAndWait(pid)
        if (wrapperDir !== undefined) rmSync(wrapperDir, { recursive: true, force: true })
      })()
      await closing
    }
  }
}

/** Pids of the live (not zombie) processes in process group `pgid`. */
export function processGroupMembers (pgid: number): number[] {
  const members: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    let stat: string
    try { stat = readFileSync(`/proc/${name}/stat`, 'utf8') } catch { continue }
    // "pid (comm) state ppid pgrp ...": fields after the last ')' (comm may hold spaces)
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (fields[0] !== 'Z' && Number(fields[2]) === pgid) members.push(Number(name))
  }
  return members
}

function killGroupAndWait (pgid: number): void {
  const pause = new Int32Array(new SharedArrayBuffer(4))
  const giveUpAt = Date.now() + EXIT_WAIT_MS
  let killed = false
  while (processGroupMembers(pgid).length > 0 && Date.now() < giveUpAt) {
    // browser.close() returned, so whatever is left gets no more grace
    if (!killed) {
      try { process.kill(-pgid, 'SIGKILL') } catch {}
      killed = true
    }
    Atomics.wait(pause, 0, 0, 10)
  }
}

async function withTimeout<T> (promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([promise, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`timed out after ${ms} ms`)) }, ms) })])
  } finally {
    clearTimeout(timer)
  }
}
