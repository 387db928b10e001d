/**
 * `npm run bench:browser`: the size of a minimal browser node (WebSockets + Noise + Yamux +
 * identify + ping), ts-libp2p beside js-libp2p, each bundled by esbuild for the browser,
 * minified, then gzipped (level 9). The goal is ts-libp2p <= 0.5x js-libp2p (issue 14).
 * Two figures per side: one self-contained file (dynamic imports inlined), and what a page
 * loads at start when the bundler splits code at dynamic imports, as Vite and webpack do by
 * default (ts-libp2p loads its zero-option defaults lazily, so a node built from explicit
 * components never downloads them). Also lists ts-libp2p's largest inputs.
 *
 *   node bench/browser/bundle-size.ts [--out bench/results]
 *   node bench/browser/bundle-size.ts --analyze [--side ts|js] [--why <path part>]   (analyze.ts)
 *
 * Writes <out>/browser.json and browser.md. Deterministic: run it anywhere, no quiet machine needed.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import type { Metafile } from 'esbuild'
import { bundle, entryFile } from './esbuild-bundle.ts'
import { analyzeMain, byPackage, chunksAtStart, modulesOf, sizeOfChunks } from './analyze.ts'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface BundleSize {
  side: 'ts' | 'js'
  /** One file, dynamic imports inlined. */
  minifiedBytes: number
  gzippedBytes: number
  /** Code split at dynamic imports: the entry chunk and the chunks it imports statically. */
  atStartMinifiedBytes: number
  atStartGzippedBytes: number
  largestInputs: Array<{ path: string, bytes: number }>
  /** What the page loads at start, minified bytes by package (ours: by folder of src/). */
  packagesAtStart: Array<{ package: string, bytes: number }>
}

export async function measure (side: 'ts' | 'js'): Promise<BundleSize> {
  const single = await bundle(side, false)
  const split = await bundle(side, true)
  // from the entry chunk, static imports only: what the page loads at start
  const atStart = chunksAtStart(split.metafile, relative(REPO_ROOT, entryFile(side)))
  const { minified: atStartMinifiedBytes, gzipped: atStartGzippedBytes } = sizeOfChunks(split.outputFiles, atStart)
  if (atStart.size === 0 || atStartMinifiedBytes === 0) throw new Error(`no entry chunk found for ${side}`)
  const code = single.outputFiles[0].contents
  return {
    side,
    minifiedBytes: code.length,
    gzippedBytes: gzipSync(code, { level: 9 }).length,
    atStartMinifiedBytes,
    atStartGzippedBytes,
    largestInputs: largestInputs(single.metafile, 12),
    packagesAtStart: byPackage(modulesOf(split.metafile, atStart, 1)).map(p => ({ package: p.path, bytes: p.bytes }))
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
    'esbuild, platform browser, minified; gzip level 9. Goal: ts-libp2p <= 0.5x js-libp2p. "One file" inlines dynamic imports; "loaded at start" splits code at them, as Vite and webpack do.',
    '',
    '| | ts-libp2p | js-libp2p | ts / js |',
    '|---|---|---|---|',
    `| one file, minified | ${kib(ts.minifiedBytes)} | ${kib(js.minifiedBytes)} | ${ratio(ts.minifiedBytes, js.minifiedBytes)} |`,
    `| one file, minified + gzip | ${kib(ts.gzippedBytes)} | ${kib(js.gzippedBytes)} | ${ratio(ts.gzippedBytes, js.gzippedBytes)} |`,
    `| loaded at start, code split (minified) | ${kib(ts.atStartMinifiedBytes)} | ${kib(js.atStartMinifiedBytes)} | ${ratio(ts.atStartMinifiedBytes, js.atStartMinifiedBytes)} |`,
    `| loaded at start, code split (minified + gzip, per chunk) | ${kib(ts.atStartGzippedBytes)} | ${kib(js.atStartGzippedBytes)} | ${ratio(ts.atStartGzippedBytes, js.atStartGzippedBytes)} |`,
    '',
    'ts-libp2p\'s largest inputs (minified bytes in the bundle):',
    '',
    ...ts.largestInputs.map(i => `- ${i.path}: ${kib(i.bytes)}`),
    '',
    'Loaded at start, minified, by package (ours by folder of src/; `npm run bench:browser -- --analyze` for modules and import chains):',
    '',
    '| ts-libp2p | | js-libp2p | |',
    '|---|---|---|---|',
    ...Array.from({ length: 15 }, (_, i) => {
      const a = ts.packagesAtStart[i]
      const b = js.packagesAtStart[i]
      return `| ${a?.package ?? ''} | ${a === undefined ? '' : kib(a.bytes)} | ${b?.package ?? ''} | ${b === undefined ? '' : kib(b.bytes)} |`
    }),
    ''
  ].join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--analyze')) {
  await analyzeMain(process.argv.slice(2))
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outIndex = process.argv.indexOf('--out')
  const out = outIndex > 0 ? process.argv[outIndex + 1] : join(REPO_ROOT, 'bench', 'results')
  const ts = await measure('ts')
  const js = await measure('js')
  const md = markdown(ts, js)
  await mkdir(out, { recursive: true })
  await writeFile(join(out, 'browser.json'), JSON.stringify({ date: new Date().toISOString(), ts, js, ratioGzipped: ts.gzippedBytes / js.gzippedBytes, ratioAtStartGzipped: ts.atStartGzippedBytes / js.atStartGzippedBytes }, null, 2) + '\n')
  await writeFile(join(out, 'browser.md'), md)
  process.stdout.write(md)
}
