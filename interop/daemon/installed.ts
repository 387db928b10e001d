/**
 * Our daemon as a user runs it: the package compiled to JavaScript and installed (under a
 * node_modules directory, "imports" pointed at dist, as test/package/install.test.ts lays it
 * out). From a checkout, bin/ts-libp2p.js runs src/*.ts, which makes Node load its TypeScript
 * stripper (about 25 MiB of RSS a user's installed daemon never has) and strip every module at
 * start; the benchmark (bench/daemon) measures the installed form unless told `--build src`,
 * and the @libp2p/interop run with our daemon as 'go' starts that form too (a start from the
 * sources takes 2-4x longer, which on a loaded machine overran the suite's 20 s hooks).
 */
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pointImports, type PackageImports } from '../../scripts/pack-imports.ts'

const REPO = fileURLToPath(new URL('../../', import.meta.url))

/** Compiles and installs the package under `root`; resolves with the `ts-libp2p` launcher's path. */
export function installPackage (root: string): string {
  const pkgDir = join(root, 'node_modules', 'ts-libp2p')
  mkdirSync(pkgDir, { recursive: true })
  execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(pkgDir, 'dist'), '--sourceMap', 'false', '--declaration', 'false'], { stdio: 'inherit' })
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as PackageImports & Record<string, unknown>
  pointImports(pkg, 'dist')
  writeFileSync(join(pkgDir, 'package.json'), JSON.stringify(pkg, null, 2))
  cpSync(join(REPO, 'bin'), join(pkgDir, 'bin'), { recursive: true })
  symlinkSync(join(REPO, 'node_modules'), join(pkgDir, 'node_modules'), 'dir')
  return join(pkgDir, 'bin', 'ts-libp2p.js')
}

/** The launcher for `--build dist` (installed, the default) or `--build src` (the checkout). */
export function daemonLauncher (build: string, root: string): string {
  if (build === 'src') return join(REPO, 'bin', 'ts-libp2p.js')
  if (build !== 'dist') throw new Error(`--build must be dist or src, not ${build}`)
  return installPackage(root)
}
