/**
 * The @libp2p/interop suite (npm 14.0.16) with OUR daemon as 'go' and js-libp2p with
 * @libp2p/daemon-server as 'js' (interop/daemon/factory.ts), run by mocha in a child process.
 * Prints "N passed, N failed" from mocha's own counts. The relay suite is left out (--grep)
 * until circuit relay v2 lands; webtransport/webrtc-direct are skipped by the factory.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

test('@libp2p/interop: our daemon as go, js-libp2p as js: connection, echo streams, DHT, pubsub', { timeout: 900_000 }, async () => {
  const child = spawn(process.execPath, ['node_modules/mocha/bin/mocha.js', '--timeout', '60000', '--extension', 'ts',
    '--reporter', 'dot', '--grep', 'relay', '--invert', 'interop/daemon/suite.ts'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBUG: '' } })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d })
  const code = await new Promise<number | null>(resolve => child.once('close', resolve))
  const passed = Number(/(\d+) passing/.exec(out)?.[1] ?? 0)
  const failed = Number(/(\d+) failing/.exec(out)?.[1] ?? 0)
  process.stdout.write(`@libp2p/interop (ours as go): ${passed} passed, ${failed} failed\n`)
  assert.equal(failed, 0, out)
  assert.equal(code, 0, out)
  assert.ok(passed >= 72, `expected at least the 72 tests known to run, got ${passed}:\n${out}`)
})
