/**
 * Compiles the benchmark peers, and the library sources they import, to plain JavaScript in
 * bench/.build before a run, so every peer runs the way an installed package does.
 *
 * Why: from a checkout Node runs our .ts files through its type stripper, whose code (about
 * 4 MB) then stays in the JavaScript heap for the life of the process. A bulk transfer runs a
 * full garbage collection every few tens of megabytes (node:crypto allocates every frame's
 * output outside the heap, and that growth triggers them), and each marks the whole heap: with
 * the stripper resident, every peer, ours and js-libp2p's alike, would spend CPU on marking
 * code that no installed package carries. The js-libp2p peer and the raw reference are
 * compiled the same way, so the sides stay comparable.
 *
 * The output goes to a fresh temporary directory (so runs never collide) with its own
 * package.json, whose "imports" (#noise-crypto and friends) point at the compiled files, and a
 * node_modules link to the repository's.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface PeerBuild {
  /** The directory holding the compiled peer scripts (js-peer.js, ts-peer.js, raw-peer.js). */
  peersDir: string
  /** The compiled tree's root: src/, bench/peers/ and bench/startup/ below it. */
  root: string
  remove(): void
}

export function buildPeers (): PeerBuild {
  const dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-bench-'))
  const fromBuild = (path: string): string => relative(dir, join(REPO_ROOT, path))
  const tsconfig = join(dir, 'tsconfig.json')
  writeFileSync(tsconfig, JSON.stringify({
    extends: fromBuild('tsconfig.json'),
    compilerOptions: { noEmit: false, declaration: false, sourceMap: false, outDir: '.', rootDir: fromBuild('.'), types: ['node'], typeRoots: [fromBuild('node_modules/@types')] },
    include: [fromBuild('src'), fromBuild('bench/peers'), fromBuild('bench/startup'), fromBuild('interop/test-plans/js-perf.ts')]
  }, null, 2))
  try {
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], { stdio: 'inherit' })
  } catch (err) {
    // tsc still emits when a type check fails; type errors are `npm test`'s business, a
    // benchmark of a work in progress should still run. Only missing output is fatal.
    if (!existsSync(join(dir, 'bench', 'peers', 'ts-peer.js'))) throw err
    process.stderr.write('bench: type errors above; running the emitted JavaScript anyway\n')
  }
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { imports?: Record<string, Record<string, string>> }
  const imports: Record<string, Record<string, string>> = {}
  for (const [name, conditions] of Object.entries(pkg.imports ?? {})) {
    imports[name] = {}
    for (const [condition, target] of Object.entries(conditions)) imports[name][condition] = target.replace(/\.ts$/, '.js')
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true, imports }, null, 2) + '\n')
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
  return {
    peersDir: join(dir, 'bench', 'peers'),
    root: dir,
    remove: () => { rmSync(dir, { recursive: true, force: true }) }
  }
}
