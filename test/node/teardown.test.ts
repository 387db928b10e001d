import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const fixture = fileURLToPath(new URL('./fixtures/two-nodes.ts', import.meta.url))

/** Runs the fixture; resolves with its stdout once it exits, fails if it outlives `boundMs`. */
function run (args: string[], boundMs: number): Promise<{ code: number | null, stdout: string, stderr: string, ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const child = spawn(process.execPath, [fixture, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the process did not exit within ${boundMs} ms after its work; stdout: ${stdout} stderr: ${stderr}`))
    }, boundMs)
    child.on('exit', code => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, ms: Date.now() - started })
    })
  })
}

describe('teardown', () => {
  for (const muxer of ['yamux', 'mplex']) {
    it(`two nodes that connected and stopped leave nothing behind (${muxer})`, async () => {
      const result = await run([muxer], 15_000)
      assert.equal(result.code, 0, result.stderr)
      const report = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as { left: string[], held: number }
      assert.deepEqual(report.left, [], `resources left after stop: ${report.left.join(', ')}`)
      assert.equal(report.held, 1)
    })
  }
})
