/**
 * Error names survive minification: a minifier renames classes, so `name` must be a string
 * literal, not the class's own name. Bundles the front door for browsers with esbuild
 * `--minify` and checks every exported error class of the bundle.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
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
