/**
 * A real Prometheus for tests (Debian's `prometheus` and `promtool`): started on loopback with a
 * config and data directory of its own, ready once its log says so and /-/ready answers; stopped
 * (and its directory removed) by `stop()`. Missing binaries are installed by
 * scripts/install-system-packages.sh when we are root; otherwise a test skips saying why,
 * except under CI (CI=true), where it fails.
 */
import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { delay } from '../../src/util/timers.ts'
import { unusedTcpPort } from './ports.ts'

export const PROMETHEUS_PATH = process.env.PROMETHEUS_PATH ?? '/usr/bin/prometheus'
export const PROMTOOL_PATH = process.env.PROMTOOL_PATH ?? '/usr/bin/promtool'
const INSTALL_SCRIPT = fileURLToPath(new URL('../../scripts/install-system-packages.sh', import.meta.url))

/** The `skip` option of a suite that needs Prometheus: false when it can run, else the reason (throws under CI). */
export function prometheusSkip (): string | false {
  const reason = prometheusUnavailableReason()
  if (reason === undefined) return false
  if (process.env.CI === 'true') throw new Error(`CI must run the Prometheus tests, but ${reason}`)
  return reason
}

function prometheusUnavailableReason (): string | undefined {
  if (process.platform !== 'linux') return `the Prometheus tests use Debian's prometheus package (this is ${process.platform})`
  if (existsSync(PROMETHEUS_PATH) && existsSync(PROMTOOL_PATH)) return undefined
  if (process.getuid?.() !== 0) return `${PROMETHEUS_PATH} or ${PROMTOOL_PATH} is missing and we are not root to install Debian's prometheus (run scripts/install-system-packages.sh prometheus as root)`
  try {
    execFileSync('bash', [INSTALL_SCRIPT, 'prometheus'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 600_000 })
  } catch (err) {
    return `installing Debian's prometheus failed: ${(err as Error).message}`
  }
  return existsSync(PROMETHEUS_PATH) && existsSync(PROMTOOL_PATH) ? undefined : 'prometheus is still missing after installing it'
}

/** Runs `promtool check metrics` on an exposition; resolves with its complaints ('' when none). */
export function promtoolCheckMetrics (exposition: string): string {
  try {
    return execFileSync(PROMTOOL_PATH, ['check', 'metrics'], { input: exposition, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 })
  } catch (err) {
    const e = err as { stdout?: string, stderr?: string, message: string }
    return `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message
  }
}

export interface PrometheusInstance {
  readonly url: string
  /** An instant query through the HTTP API; the `data.result` array. */
  query(promql: string): Promise<Array<{ metric: Record<string, string>, value: [number, string] }>>
  /** Polls `query` until `accept` passes on its result, or fails after `timeoutMs`. */
  waitFor(promql: string, accept: (result: Array<{ metric: Record<string, string>, value: [number, string] }>) => boolean, timeoutMs?: number): Promise<Array<{ metric: Record<string, string>, value: [number, string] }>>
  stop(): Promise<void>
}

/** A free loopback TCP port (Prometheus refuses port 0): bound, read and released. */

/** Starts Prometheus scraping `targets` (host:port, path /metrics) every second. */
export async function startPrometheus (targets: string[], timeoutMs = 30_000): Promise<PrometheusInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-prometheus-'))
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    '  - job_name: ts-libp2p',
    '    static_configs:',
    `      - targets: [${targets.map(t => `'${t}'`).join(', ')}]`,
    ''
  ].join('\n')
  writeFileSync(join(dir, 'prometheus.yml'), config)
  const port = await unusedTcpPort()
  const url = `http://127.0.0.1:${port}`
  const child: ChildProcess = spawn(PROMETHEUS_PATH, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=info'
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`prometheus was not ready within ${timeoutMs} ms:\n${log}`)) }, timeoutMs)
      child.stderr?.setEncoding('utf8')
      child.stderr?.on('data', (text: string) => {
        if (log.length < 100_000) log += text
        if (log.includes('Server is ready to receive web requests')) { clearTimeout(timer); resolve() }
      })
      child.once('exit', code => { clearTimeout(timer); reject(new Error(`prometheus exited (${code}) before it was ready:\n${log}`)) })
    })
    const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(5000) })
    if (!ready.ok) throw new Error(`prometheus /-/ready answered ${ready.status}`)
  } catch (err) {
    await stop()
    throw err
  }
  const query = async (promql: string): Promise<Array<{ metric: Record<string, string>, value: [number, string] }>> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`, { signal: AbortSignal.timeout(5000) })
    const body = await res.json() as { status: string, data?: { result: Array<{ metric: Record<string, string>, value: [number, string] }> }, error?: string }
    if (body.status !== 'success' || body.data === undefined) throw new Error(`query ${promql} failed: ${body.error ?? res.status}`)
    return body.data.result
  }
  return {
    url,
    query,
    // Prometheus scrapes on its own clock: the series appear after a scrape, so poll the API
    // (every 200 ms, bounded) rather than guess a wait.
    waitFor: async (promql, accept, waitMs = 15_000) => {
      const deadline = Date.now() + waitMs
      let last: Array<{ metric: Record<string, string>, value: [number, string] }> = []
      while (Date.now() < deadline) {
        last = await query(promql)
        if (accept(last)) return last
        await delay(200)
      }
      throw new Error(`${promql} did not reach the expected value within ${waitMs} ms; last result: ${JSON.stringify(last)}\nprometheus log:\n${log.slice(-3000)}`)
    },
    stop
  }
}
