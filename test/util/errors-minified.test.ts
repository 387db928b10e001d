/**
 * Error names survive minification: a minifier renames classes, so `name` must be a string
 * literal, not the class's own name. Bundles the front door for browsers with esbuild
 * `--minify` and checks every exported error class of the bundle; then bundles every subpath
 * export (for Node, as TCP needs it) and checks each error class a subpath exports, so an error
 * class that a component adds later is held to the same rule.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { repoRoot } from '../support/import-graph.ts'
import * as sourceErrors from '../../src/util/errors.ts'

test('every error class keeps its name and code in a minified browser bundle', async () => {
  const result = await build({
    entryPoints: [join(repoRoot, 'src/index.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent'
  })
  const dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-minified-'))
  try {
    const file = join(dir, 'bundle.mjs')
    writeFileSync(file, result.outputFiles[0].contents)
    const bundle = await import(pathToFileURL(file).href) as Record<string, unknown>
    const names = [...Object.keys(sourceErrors), 'DialError', 'NoPeerRoutersError', 'NoContentRoutersError']
    let renamedClasses = 0
    for (const name of names) {
      const ErrorClass = bundle[name] as (new (...args: any[]) => Error & { code: string }) & { code?: string }
      assert.equal(typeof ErrorClass, 'function', `${name} is exported by the bundle`)
      if (ErrorClass.name !== name) renamedClasses++
      const err = name === 'DialError' ? new ErrorClass('somewhere', []) : name === 'Libp2pError' ? new ErrorClass('m', 'ERR_X') : new ErrorClass()
      assert.equal(err.name, name)
      const sourceClass = (sourceErrors as Record<string, unknown>)[name] as { code?: string } | undefined
      if (sourceClass?.code !== undefined) assert.equal(err.code, sourceClass.code, `${name} code`)
    }
    // The test means something only if the minifier did rename the classes.
    assert.ok(renamedClasses > names.length / 2, `the minifier renamed ${renamedClasses} of ${names.length} classes`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

type ErrorClass = new (...args: unknown[]) => Error & { code?: unknown }

function errorClassesOf (module: Record<string, unknown>): Map<string, ErrorClass> {
  const found = new Map<string, ErrorClass>()
  for (const [name, value] of Object.entries(module)) {
    if (typeof value === 'function' && value.prototype instanceof Error) found.set(name, value as ErrorClass)
  }
  return found
}

/**
 * Arguments each error class accepts: a message (DialError: a target and no attempts; the base
 * classes that take their code from a subclass, Libp2pError and HttpError: a code, and
 * HttpError's status).
 */
function probeArgs (name: string): unknown[] {
  return name === 'Libp2pError' || name === 'HttpError' ? ['probe', 'ERR_PROBE', 500] : ['probe', []]
}

test('every error class of every subpath export keeps its name and code in a minified bundle', async () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { exports: Record<string, { import: string }> }
  const entries = Object.entries(pkg.exports).map(([subpath, target]) => [subpath, join(repoRoot, target.import.replace(/^\.\/dist\/(.*)\.js$/, 'src/$1.ts'))] as const)
  // one namespace per subpath, so equal export names of different subpaths do not clash
  const contents = entries.map(([, file], i) => `export * as m${i} from ${JSON.stringify(file)}`).join('\n')
  const result = await build({
    stdin: { contents, resolveDir: repoRoot, sourcefile: 'every-subpath.ts', loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    write: false,
    logLevel: 'silent',
    // CommonJS dependencies (ws) require() Node built-ins, which an ESM bundle has no require for
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" }
  })
  const dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-minified-'))
  try {
    const file = join(dir, 'bundle.mjs')
    writeFileSync(file, result.outputFiles[0].contents)
    const bundle = await import(pathToFileURL(file).href) as Record<string, Record<string, unknown>>
    let checked = 0
    for (const [i, [subpath, source]] of entries.entries()) {
      const original = errorClassesOf(await import(pathToFileURL(source).href) as Record<string, unknown>)
      const minified = errorClassesOf(bundle[`m${i}`])
      assert.deepEqual([...minified.keys()].sort(), [...original.keys()].sort(), `error classes exported by ${subpath}`)
      for (const [name, Minified] of minified) {
        const err = new Minified(...probeArgs(name))
        const expected = new (original.get(name) as ErrorClass)(...probeArgs(name))
        assert.equal(err.name, name, `${subpath} ${name}: name`)
        assert.equal(typeof err.code, 'string', `${subpath} ${name}: code`)
        assert.equal(err.code, expected.code, `${subpath} ${name}: code`)
        assert.ok(String(err.stack).startsWith(`${name}: `), `${subpath} ${name}: stack header`)
        checked++
      }
    }
    assert.ok(checked > 20, `checked ${checked} error classes`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
