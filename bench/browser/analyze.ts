/**
 * `npm run bench:browser -- --analyze`: what the minimal browser node's bundle is made of.
 * Bundles one side as bench:browser does (esbuild, browser platform, minified) and prints, for
 * what a page loads at start (code split at dynamic imports) and for the one-file bundle, the
 * minified bytes each package and each module adds, the chunks left for later, and with
 * `--why <path part>` the import chain from the entry that pulls a module in.
 *
 *   node bench/browser/bundle-size.ts --analyze [--side ts|js] [--top 40] [--why src/dns/]
 *
 * Gzip does not split by module: the gzip column is the chunk's gzip ratio applied to the
 * module's minified bytes, an estimate for ranking, not a measurement.
 */
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import type { Metafile, OutputFile } from 'esbuild'
import { bundle, entryFile } from './esbuild-bundle.ts'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface ModuleSize { path: string, bytes: number, gzipEstimate: number }

/** `node_modules/@scope/name/...` -> `@scope/name`; `src/a/b/c.ts` -> `src/a/b` (a folder of ours). */
export function packageOf (path: string): string {
  const at = path.lastIndexOf('node_modules/')
  if (at >= 0) {
    const parts = path.slice(at + 'node_modules/'.length).split('/')
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]
  }
  const parts = path.split('/')
  return parts.length > 3 ? parts.slice(0, 3).join('/') : parts.slice(0, -1).join('/')
}

/** node_modules may be a symlink to another checkout: name modules from node_modules/ on. */
function shortPath (path: string): string {
  const at = path.lastIndexOf('node_modules/')
  return at >= 0 ? path.slice(at) : path
}

/** The output chunks a page loads at start: the entry and what it imports statically. */
export function chunksAtStart (metafile: Metafile, entry: string): Set<string> {
  const outputs = metafile.outputs
  const seen = new Set<string>()
  const pending = Object.keys(outputs).filter(name => outputs[name].entryPoint === entry)
  while (pending.length > 0) {
    const name = pending.pop() as string
    if (seen.has(name)) continue
    seen.add(name)
    for (const imported of outputs[name].imports) if (imported.kind === 'import-statement') pending.push(imported.path)
  }
  return seen
}

/** Minified and gzipped bytes of the output files among `chunks` (gzipped chunk by chunk, as a page fetches them). */
export function sizeOfChunks (outputFiles: OutputFile[], chunks: Set<string>): { minified: number, gzipped: number } {
  let minified = 0
  let gzipped = 0
  for (const file of outputFiles) {
    if (!chunks.has(relative(REPO_ROOT, file.path))) continue
    minified += file.contents.length
    gzipped += gzipSync(file.contents, { level: 9 }).length
  }
  return { minified, gzipped }
}

export function modulesOf (metafile: Metafile, chunks: Iterable<string>, gzipRatio: number): ModuleSize[] {
  const modules: ModuleSize[] = []
  for (const name of chunks) {
    for (const [path, { bytesInOutput }] of Object.entries(metafile.outputs[name].inputs)) {
      modules.push({ path: shortPath(path), bytes: bytesInOutput, gzipEstimate: bytesInOutput * gzipRatio })
    }
  }
  return modules.sort((a, b) => b.bytes - a.bytes)
}

export function byPackage (modules: ModuleSize[]): ModuleSize[] {
  const sums = new Map<string, ModuleSize>()
  for (const m of modules) {
    const key = packageOf(m.path)
    const sum = sums.get(key) ?? { path: key, bytes: 0, gzipEstimate: 0 }
    sum.bytes += m.bytes
    sum.gzipEstimate += m.gzipEstimate
    sums.set(key, sum)
  }
  return [...sums.values()].sort((a, b) => b.bytes - a.bytes)
}

/** The shortest import chain from the entry to the first input whose path contains `part`. */
export function whyIncluded (metafile: Metafile, entry: string, part: string): string[] | undefined {
  const parent = new Map<string, string | undefined>([[entry, undefined]])
  const queue = [entry]
  while (queue.length > 0) {
    const path = queue.shift() as string
    if (path !== entry && path.includes(part)) {
      const chain: string[] = []
      for (let at: string | undefined = path; at !== undefined; at = parent.get(at)) chain.unshift(shortPath(at))
      return chain
    }
    for (const imported of metafile.inputs[path]?.imports ?? []) {
      if (parent.has(imported.path)) continue
      parent.set(imported.path, path)
      queue.push(imported.path)
    }
  }
  return undefined
}

const kib = (bytes: number): string => (bytes / 1024).toFixed(1).padStart(6)

function table (title: string, rows: ModuleSize[], total: number, top: number): string {
  const lines = [`${title}`, '  min KiB  ~gz KiB  share  ']
  for (const row of rows.slice(0, top)) lines.push(`  ${kib(row.bytes)}   ${kib(row.gzipEstimate)}  ${(100 * row.bytes / total).toFixed(1).padStart(4)} %  ${row.path}`)
  if (rows.length > top) lines.push(`  ... ${rows.length - top} more, ${kib(rows.slice(top).reduce((n, r) => n + r.bytes, 0))} KiB`)
  return lines.join('\n')
}

export async function analyzeMain (args: string[]): Promise<void> {
  const flag = (name: string): string | undefined => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined }
  const side = flag('--side') === 'js' ? 'js' : 'ts'
  const top = Number(flag('--top') ?? 40)
  const why = flag('--why')
  const entry = relative(REPO_ROOT, entryFile(side))
  const out: string[] = [`# ${side === 'ts' ? 'ts-libp2p' : 'js-libp2p'}: the minimal browser node's bundle by package and module (esbuild, minified)`]

  const split = await bundle(side, true)
  const atStart = chunksAtStart(split.metafile, entry)
  const { minified: startMin, gzipped: startGz } = sizeOfChunks(split.outputFiles, atStart)
  const startModules = modulesOf(split.metafile, atStart, startGz / startMin)
  out.push('', `## Loaded at start (code split): ${kib(startMin).trim()} KiB minified, ${kib(startGz).trim()} KiB gzipped (per chunk)`, '')
  out.push(table('By package (node_modules) or folder (ours):', byPackage(startModules), startMin, top), '')
  out.push(table('By module:', startModules, startMin, top), '')
  out.push('Chunks loaded later (dynamic imports):')
  for (const [name, output] of Object.entries(split.metafile.outputs)) {
    if (atStart.has(name) || name.endsWith('.map')) continue
    const inputs = Object.entries(output.inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput).slice(0, 6).map(([p]) => shortPath(p))
    out.push(`  ${kib(output.bytes)} KiB  ${name.split('/').pop() ?? name}: ${inputs.join(', ')}${Object.keys(output.inputs).length > 6 ? ', ...' : ''}`)
  }

  const single = await bundle(side, false)
  const code = single.outputFiles[0].contents
  const singleGz = gzipSync(code, { level: 9 }).length
  const singleModules = modulesOf(single.metafile, Object.keys(single.metafile.outputs), singleGz / code.length)
  out.push('', `## One file (dynamic imports inlined): ${kib(code.length).trim()} KiB minified, ${kib(singleGz).trim()} KiB gzipped`, '')
  out.push(table('By package (node_modules) or folder (ours):', byPackage(singleModules), code.length, top))

  if (why !== undefined) {
    const chain = whyIncluded(single.metafile, entry, why)
    out.push('', `## Why ${why}`, chain === undefined ? '  not in the graph' : chain.map((p, i) => `${'  '.repeat(i + 1)}${p}`).join('\n'))
  }
  process.stdout.write(out.join('\n') + '\n')
}
