/**
 * Points package.json "imports" at the compiled dist/*.js files while the package is packed,
 * and back at src/*.ts afterwards. Why: from a checkout, Node 24 runs our .ts sources
 * directly, but Node never strips types inside node_modules, so an installed copy must
 * resolve `#crypto-backend` and friends to JavaScript.
 *
 * Usage: node scripts/pack-imports.ts dist|src
 */
import { readFileSync, writeFileSync } from 'node:fs'

const mode = process.argv[2]
if (mode !== 'dist' && mode !== 'src') {
  console.error('usage: pack-imports.ts dist|src')
  process.exit(2)
}
const path = new URL('../package.json', import.meta.url)
const pkg = JSON.parse(readFileSync(path, 'utf8')) as { imports?: Record<string, Record<string, string>> }
for (const conditions of Object.values(pkg.imports ?? {})) {
  for (const [condition, target] of Object.entries(conditions)) {
    conditions[condition] = mode === 'dist'
      ? target.replace(/^\.\/src\/(.*)\.ts$/, './dist/$1.js')
      : target.replace(/^\.\/dist\/(.*)\.js$/, './src/$1.ts')
  }
}
writeFileSync(path, JSON.stringify(pkg, null, 2) + '\n')
