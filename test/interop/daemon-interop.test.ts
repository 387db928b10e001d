/**
 * The @libp2p/interop suite (npm 14.0.16), run by mocha in a child process, twice
 * (interop/daemon/factory.ts):
 * - our daemon (the compiled package, installed in a temporary directory) as 'go' and js-libp2p
 *   with @libp2p/daemon-server as 'js';
 * - the real go-libp2p-daemon p2pd v0.9.2 (interop/p2pd/build.ts) as 'go' and our daemon as 'js'.
 * Each prints "N passed, N failed" from mocha's own counts; webtransport/webrtc-direct are
 * skipped by the factory.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildP2pd } from '../../interop/p2pd/build.ts'
import { installPackage } from '../../interop/daemon/installed.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

async function runSuite (label: string, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<{ passed: number, failed: number, code: number | null, out: string }> {
  // a process group of its own: when the test ends early, mocha and every daemon it spawned go
  const child = spawn(process.execPath, ['node_modules/mocha/bin/mocha.js', '--timeout', '60000', '--extension', 'ts',
    '--reporter', 'dot', 'interop/daemon/suite.ts'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBUG: '', ...env }, detached: true })
  const killGroup = (): void => { try { process.kill(-(child.pid ?? 0), 'SIGKILL') } catch {} }
  signal.addEventListener('abort', killGroup, { once: true })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d })
  const code = await new Promise<number | null>(resolve => child.once('close', resolve))
  signal.removeEventListener('abort', killGroup)
  killGroup()
  const passed = Number(/(\d+) passing/.exec(out)?.[1] ?? 0)
  const failed = Number(/(\d+) failing/.exec(out)?.[1] ?? 0)
  process.stdout.write(`@libp2p/interop (${label}): ${passed} passed, ${failed} failed\n`)
  return { passed, failed, code, out }
}

test('@libp2p/interop: our daemon as go, js-libp2p as js: connection, echo streams, DHT, pubsub, relay', { timeout: 900_000 }, async (t) => {
  // our daemon as users run it, compiled and installed: it also starts 2-4x faster than from
  // the .ts sources, which keeps the suite's 20 s hooks within reach on a loaded machine
  const root = await mkdtemp(join(tmpdir(), 'ts-libp2p-interop-install-'))
  t.after(async () => { await rm(root, { recursive: true, force: true }) })
  const bin = installPackage(root)
  const { passed, failed, code, out } = await runSuite('ours as go', { INTEROP_P2PD: '', INTEROP_TS_LIBP2P_BIN: bin }, t.signal)
  assert.equal(failed, 0, out)
  assert.equal(code, 0, out)
  assert.ok(passed >= 88, `expected at least the 88 tests known to run, got ${passed}:\n${out}`)
})

test('@libp2p/interop: the real p2pd v0.9.2 as go, our daemon as js: connection, echo streams, DHT, pubsub, relay', { timeout: 1_500_000 }, async (t) => {
  const { p2pd } = await buildP2pd()
  const { passed, failed, code, out } = await runSuite('p2pd as go, ours as js', { INTEROP_P2PD: p2pd }, t.signal)
  assert.equal(failed, 0, out)
  assert.equal(code, 0, out)
  assert.ok(passed >= 88, `expected at least the 88 tests known to run, got ${passed}:\n${out}`)
})
