/**
 * Progress on a real pseudo-terminal (util-linux `script` gives the command a pty): `doctor`
 * draws its bar on the terminal, while piped it prints nothing but its one JSON object; and
 * Ctrl-C (SIGINT) mid-run stops it cleanly with exit code 130.
 */
import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BIN, runCli, startCli, type RunningCli } from './run-cli.ts'
import { hasScript, runOnTerminal } from './terminal.ts'

describe('progress on a terminal and in a pipe', { timeout: 300_000, skip: hasScript() ? false : 'util-linux script is missing (it provides the pseudo-terminal)' }, () => {
  let cli: RunningCli | undefined
  let dir: string | undefined
  let address = ''
  after(async () => {
    await cli?.stop()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  it('a node to probe', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-progress-'))
    cli = startCli(['start', '--data-dir', dir, '--events', '--listen', '/ip4/127.0.0.1/tcp/0', '--listen', '/ip4/127.0.0.1/tcp/0/ws'])
    address = (JSON.parse(await cli.nextLine('stdout', undefined, 60_000)) as { addrs: string[] }).addrs[0]
  })

  it('on a terminal: the bar is drawn in place (\\r, a percentage) and cleared before the table', async () => {
    const { code, screen } = await runOnTerminal(['doctor', address])
    assert.equal(code, 0, screen)
    assert.match(screen, /\rprobing \[[#.]{24}\] +\d+% \d+\/\d+/)
    assert.match(screen, /\r\u001b\[K/, 'the bar line is cleared')
    assert.match(screen, /no problems found/)
  })

  it('piped: stdout is one JSON object and stderr stays empty (no bar, no control characters)', async () => {
    const { code, stdout, stderr } = await runCli(['doctor', address, '--json'], { timeoutMs: 120_000 })
    assert.equal(code, 0)
    assert.equal(stderr, '')
    assert.equal(stdout.trim().split('\n').length, 1)
    assert.doesNotMatch(stdout, /[\r\u001b]/)
    assert.equal((JSON.parse(stdout) as { ok: boolean }).ok, true)
  })

  it('Ctrl-C while probing stops cleanly with exit code 130', async () => {
    cli!.skipReceived('stdout')
    const child = spawn(process.execPath, [BIN, 'doctor', address, '--json'], { env: { ...process.env, DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    const exited = new Promise<number | null>(resolve => { child.on('exit', code => { resolve(code) }) })
    // interrupt once the first probe's connection reached the node (its peer:connect line)
    await cli!.nextLine('stdout', line => line.includes('peer:connect'), 60_000)
    child.kill('SIGINT')
    assert.equal(await exited, 130, stderr)
    assert.match(stderr, /interrupted/)
  })
})
