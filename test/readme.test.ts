/**
 * Runs the README's hello-world block against the real package entry point, so the example
 * in the front page cannot rot.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, writeFile, rm, mkdtemp } from 'node:fs/promises'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { tmpdir } from 'node:os'

const root = fileURLToPath(new URL('..', import.meta.url))

test('the README hello world runs and echoes', async () => {
  const readme = await readFile(join(root, 'README.md'), 'utf8')
  const block = /## Hello world\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1]
  assert.ok(block !== undefined, 'README has a Hello world ts block')
  const dir = await mkdtemp(join(tmpdir(), 'ts-libp2p-readme-'))
  const file = join(dir, 'hello.ts')
  // The package's own exports map, pointed at the sources: 'ts-libp2p/echo' -> src/protocols/echo/index.ts
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { import: string }> }
  const source = block.replace(/from '(ts-libp2p(?:\/[a-z-]+)?)'/g, (_match, specifier: string) => {
    const target = pkg.exports['.' + specifier.slice('ts-libp2p'.length)]
    assert.ok(target !== undefined, `${specifier} is an export of the package`)
    return `from ${JSON.stringify(join(root, target.import.replace(/^\.\/dist\/(.*)\.js$/, 'src/$1.ts')))}`
  })
  await writeFile(file, source)
  try {
    const { code, stdout, stderr } = await new Promise<{ code: number | null, stdout: string, stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
      const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`hello world did not exit: ${stdout} ${stderr}`)) }, 30_000)
      child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
    })
    assert.equal(code, 0, stderr)
    assert.match(stdout, /echoed: hello libp2p/)
    assert.match(stdout, /bob sees 12D3KooW/)
    assert.match(stdout, /rtt ms: \d/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
