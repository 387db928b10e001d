/**
 * Each transport's fixture opens listeners and connections in a child process, closes them
 * all, and must then exit by itself: a leaked socket, server or timer keeps it alive.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const fixtures = { TCP: 'tcp/fixtures/teardown-child.ts', WebSocket: 'websockets/fixtures/teardown-child.ts', QUIC: 'quic/fixtures/teardown-child.ts' }

for (const [name, file] of Object.entries(fixtures)) {
  test(`after closing everything, no ${name} handle or timer keeps the process alive`, { timeout: 90_000 }, async () => {
    const child = fileURLToPath(new URL(`./${file}`, import.meta.url))
    const proc = spawn(process.execPath, [child], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    proc.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    proc.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    // A whole libp2p node (QUIC's fixture) takes longer to load on a busy machine; a leaked
    // socket keeps the child alive forever, so the bound only has to beat the load time.
    const bound = name === 'QUIC' ? 60_000 : 10_000
    const killer = setTimeout(() => { proc.kill('SIGKILL') }, bound)
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(resolve => {
      proc.on('exit', (c, s) => { resolve([c, s]) })
    })
    clearTimeout(killer)
    assert.equal(signal, null, `the child did not exit by itself within ${bound} ms (a handle leaked); stderr: ${stderr}`)
    assert.equal(code, 0, `child failed: ${stderr}`)
    assert.equal(stdout.trim(), 'done')
  })
}
