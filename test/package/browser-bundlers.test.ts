/**
 * The package as a browser application gets it: compiled to dist/ and installed under
 * node_modules (as test/package/install.test.ts does), then a page app (the README's hello world
 * adapted for a page: a browser node dials a Node node over WebSockets, echoes a greeting and
 * pings) is bundled by esbuild, Vite and webpack, each with its own browser resolution of the
 * package's exports and "imports" conditions, and each bundle runs in Chromium against a
 * ts-libp2p listener in this process. A Node built-in reaching any of the three graphs fails.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build as esbuild } from 'esbuild'
import { build as viteBuild } from 'vite'
import webpack from 'webpack'
import { pointImports } from '../../scripts/pack-imports.ts'
import type { PackageImports } from '../../scripts/pack-imports.ts'
import { createLibp2p } from '../../src/index.ts'
import type { Libp2p } from '../../src/index.ts'
import { echo } from '../../src/protocols/echo/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import { webSockets } from '../../src/transport/websockets/index.ts'
import { chromiumSkip, rejectNodeBuiltins, withBrowserPage } from '../support/browser/index.ts'
import { repoRoot } from '../support/import-graph.ts'

/** The README's hello world, as a page module: alice is the page, bob listens in Node. */
const HELLO_PAGE = `
import { createLibp2p, multiaddr } from 'ts-libp2p'
import { echo } from 'ts-libp2p/echo'
import { identify } from 'ts-libp2p/identify'
import { ping } from 'ts-libp2p/ping'

export async function helloWorld (bobAddr) {
  const lines = []
  // the browser's default stack (WebSockets, Noise, Yamux) and three services
  const alice = await createLibp2p({ services: { identify: identify(), ping: ping(), echo: echo() } })
  const stream = await alice.dialProtocol(multiaddr(bobAddr), '/echo/1.0.0')
  await stream.write(new TextEncoder().encode('hello libp2p'))
  await stream.closeWrite()
  for await (const chunk of stream) lines.push('echoed: ' + new TextDecoder().decode(chunk))
  lines.push('rtt ms: ' + await alice.services.ping.ping(multiaddr(bobAddr)))
  await alice.stop()
  return lines
}
`

const NODE_BUILTIN = /^(node:|(net|tls|fs|dgram|os|path|crypto|child_process|http|https|stream|sqlite|worker_threads)(\/|$))/

describe('browser bundlers build and run the hello-world page from the installed package', { skip: chromiumSkip() }, () => {
  let root = ''
  let appDir = ''
  let bob: Libp2p | undefined
  let bobAddr = ''
  const bobSaw: string[] = []

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ts-libp2p-bundlers-'))
    const pkgDir = join(root, 'node_modules', 'ts-libp2p')
    mkdirSync(pkgDir, { recursive: true })
    execFileSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(repoRoot, 'tsconfig.build.json'), '--outDir', join(pkgDir, 'dist'), '--sourceMap', 'false', '--declaration', 'false'], { stdio: 'inherit' })
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as PackageImports & Record<string, unknown>
    pointImports(pkg, 'dist')
    writeFileSync(join(pkgDir, 'package.json'), JSON.stringify(pkg, null, 2))
    // the package's own dependencies, as npm would have installed them beside it
    for (const dep of Object.keys(pkg.dependencies as Record<string, string>)) {
      const scope = dep.startsWith('@') ? dep.split('/')[0] : undefined
      if (scope !== undefined) mkdirSync(join(root, 'node_modules', scope), { recursive: true })
      symlinkSync(join(repoRoot, 'node_modules', dep), join(root, 'node_modules', dep), 'dir')
    }
    appDir = join(root, 'app')
    mkdirSync(appDir)
    writeFileSync(join(appDir, 'hello.js'), HELLO_PAGE)
    writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'hello-page', private: true, type: 'module' }))
    bob = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0/ws'] }, transports: [webSockets()], services: { identify: identify(), ping: ping(), echo: echo() } })
    bob.addEventListener('peer:connect', evt => { bobSaw.push(evt.detail.toString()) })
    bobAddr = bob.getMultiaddrs().map(String).find(a => a.includes('/ws/'))!
  }, { timeout: 300_000 })

  after(async () => {
    await bob?.stop()
    if (root !== '') rmSync(root, { recursive: true, force: true })
  })

  async function runsInChromium (script: string): Promise<void> {
    const connectsBefore = bobSaw.length
    const lines = await withBrowserPage({ script }, async page => await page.call<string[]>('helloWorld', bobAddr))
    assert.equal(lines[0], 'echoed: hello libp2p')
    assert.match(lines[1], /^rtt ms: \d/)
    assert.equal(bobSaw.length, connectsBefore + 1, 'bob saw the page connect')
    assert.match(bobSaw[bobSaw.length - 1], /^12D3KooW/)
  }

  it('esbuild', { timeout: 120_000 }, async () => {
    const found: string[] = []
    const result = await esbuild({ entryPoints: [join(appDir, 'hello.js')], absWorkingDir: appDir, bundle: true, platform: 'browser', format: 'esm', minify: true, write: false, logLevel: 'silent', plugins: [rejectNodeBuiltins(found)] })
    assert.deepEqual(found, [])
    await runsInChromium(result.outputFiles[0].text)
  })

  it('Vite', { timeout: 120_000 }, async () => {
    const found: string[] = []
    const outDir = join(root, 'vite-out')
    await viteBuild({
      configFile: false,
      root: appDir,
      logLevel: 'silent',
      plugins: [{ name: 'reject-node-builtins', enforce: 'pre', resolveId (id: string, importer?: string) { if (NODE_BUILTIN.test(id)) found.push(`${importer ?? '?'} imports ${id}`); return null } }],
      build: {
        outDir,
        emptyOutDir: true,
        minify: true,
        lib: { entry: join(appDir, 'hello.js'), formats: ['es'], fileName: () => 'hello.js' },
        // one file: the lazily loaded defaults are inlined rather than split into a chunk
        rollupOptions: { output: { codeSplitting: false } }
      }
    })
    assert.deepEqual(found, [])
    assert.deepEqual(readdirSync(outDir), ['hello.js'], 'one self-contained module')
    await runsInChromium(readFileSync(join(outDir, 'hello.js'), 'utf8'))
  })

  it('webpack', { timeout: 120_000 }, async () => {
    const outDir = join(root, 'webpack-out')
    const stats = await new Promise<webpack.Stats>((resolve, reject) => {
      webpack({
        mode: 'production',
        target: 'web',
        context: appDir,
        entry: './hello.js',
        output: { path: outDir, filename: 'hello.js', module: true, library: { type: 'module' } },
        experiments: { outputModule: true },
        performance: { hints: false },
        // terser takes tens of seconds on a loaded machine and proves nothing here
        optimization: { minimize: false },
        // one file: the lazily loaded defaults are inlined rather than split into a chunk
        plugins: [new webpack.optimize.LimitChunkCountPlugin({ maxChunks: 1 })]
      }, (err, result) => { if (err != null || result === undefined) reject(err ?? new Error('webpack gave no stats')); else resolve(result) })
    })
    // webpack 5 has no Node polyfills for the web target: a Node built-in is a build error
    assert.equal(stats.hasErrors(), false, stats.toString({ all: false, errors: true }))
    assert.deepEqual(readdirSync(outDir).filter(f => f.endsWith('.js')), ['hello.js'], 'one self-contained module')
    await runsInChromium(readFileSync(join(outDir, 'hello.js'), 'utf8'))
  })
})
