/**
 * `npm run bench:browser`: the size of a minimal browser node (WebSockets + Noise + Yamux +
 * identify + ping), ts-libp2p beside js-libp2p, each bundled by esbuild for the browser,
 * minified, then gzipped (level 9). The goal is ts-libp2p <= 0.5x js-libp2p (issue 14).
 * Also lists ts-libp2p's largest inputs, to show where the bytes go.
 *
 *   node bench/browser/bundle-size.ts [--out bench/results]
 *
 * Writes <out>/browser.json and browser.md. Deterministic: run it anywhere, no quiet machine needed.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import type { Metafile, Plugin } from 'esbuild'

const HERE = fileURLToPath(new URL('.', import.meta.url))
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface BundleSize {
  side: 'ts' | 'js'
  minifiedBytes: number
  gzippedBytes: number
  largestInputs: Array<{ path: string, bytes: number }>
}

/** A browser bundle must not pull Node built-ins: the figure would be of a bundle that cannot run. */
const refuseNodeBuiltins: Plugin = {
  name: 'refuse-node-builtins',
  setup (b) {
    b.onResolve({ filter: /^node:/ }, args => ({ errors: [{ text: `Node built-in ${args.path} in a browser bundle (from ${args.importer})` }] }))
  }
}

export async function measure (side: 'ts' | 'js'): Promise<BundleSize> {
  const result = await build({
    entryPoints: [join(HERE, 'entries', side === 'ts' ? 'ts-libp2p.ts' : 'js-libp2p.ts')],
    absWorkingDir: REPO_ROOT,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    define: { 'process.env.NODE_ENV': '"production"' },
    metafile: true,
    write: false,
    logLevel: 'silent',
    plugins: [refuseNodeBuiltins]
  })
  const code = result.outputFiles[0].contents
  return {
    side,
    minifiedBytes: code.length,
    gzippedBytes: gzipSync(code, { level: 9 }).length,
    largestInputs: largestInputs(result.metafile, 12)
  }
}

function largestInputs (metafile: Metafile, count: number): Array<{ path: string, bytes: number }> {
  const output = Object.values(metafile.outputs)[0]
  return Object.entries(output.inputs)
    // node_modules may be a symlink to another checkout: name packages from node_modules/ on
    .map(([path, { bytesInOutput }]) => ({ path: path.includes('node_modules/') ? path.slice(path.indexOf('node_modules/')) : path, bytes: bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, count)
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`

function markdown (ts: BundleSize, js: BundleSize): string {
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`
  return [
    '# Browser bundle size: a minimal node (WebSockets + Noise + Yamux + identify + ping)',
    '',
    'esbuild, platform browser, minified; gzip level 9. Goal: ts-libp2p <= 0.5x js-libp2p.',
    '',
    '| | ts-libp2p | js-libp2p | ts / js |',
    '|---|---|---|---|',
    `| minified | ${kib(ts.minifiedBytes)} | ${kib(js.minifiedBytes)} | ${ratio(ts.minifiedBytes, js.minifiedBytes)} |`,
    `| minified + gzip | ${kib(ts.gzippedBytes)} | ${kib(js.gzippedBytes)} | ${ratio(ts.gzippedBytes, js.gzippedBytes)} |`,
    '',
    'ts-libp2p\'s largest inputs (minified bytes in the bundle):',
    '',
    ...ts.largestInputs.map(i => `- ${i.path}: ${kib(i.bytes)}`),
    ''
  ].join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outIndex = process.argv.indexOf('--out')
  const out = outIndex > 0 ? process.argv[outIndex + 1] : join(REPO_ROOT, 'bench', 'results')
  const ts = await measure('ts')
  const js = await measure('js')
  const md = markdown(ts, js)
  await mkdir(out, { recursive: true })
  await writeFile(join(out, 'browser.json'), JSON.stringify({ date: new Date().toISOString(), ts, js, ratioGzipped: ts.gzippedBytes / js.gzippedBytes }, null, 2) + '\n')
  await writeFile(join(out, 'browser.md'), md)
  process.stdout.write(md)
}
