/**
 * Points package.json "imports" at the compiled dist/*.js files while the package is packed,
 * and back at src/*.ts afterwards. Why: from a checkout, Node 24 runs our .ts sources
 * directly, but Node never strips types inside node_modules, so an installed copy must
 * resolve `#crypto-backend` and friends to JavaScript.
 *
 * Usage: node scripts/pack-imports.ts dist|src
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export interface PackageImports {
  imports?: Record<string, Record<string, string>>
}

/** Rewrites every "imports" target of `pkg` in place to the dist (.js) or src (.ts) file. */
export function pointImports (pkg: PackageImports, mode: 'dist' | 'src'): void {
  for (const conditions of Object.values(pkg.imports ?? {})) {
    for (const [condition, target] of Object.entries(conditions)) {
      conditions[condition] = mode === 'dist'
        ? target.replace(/^\.\/src\/(.*)\.ts$/, './dist/$1.js')
        : target.replace(/^\.\/dist\/(.*)\.js$/, './src/$1.ts')
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mode = process.argv[2]
  if (mode !== 'dist' && mode !== 'src') {
    console.error('usage: pack-imports.ts dist|src')
    process.exit(2)
  }
  const path = new URL('../package.json', import.meta.url)
  const pkg = JSON.parse(readFileSync(path, 'utf8')) as PackageImports
  pointImports(pkg, mode)
  writeFileSync(path, JSON.stringify(pkg, null, 2) + '\n')
}
