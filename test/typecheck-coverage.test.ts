/**
 * `npm run typecheck` sees every TypeScript file of the repository. Node runs .ts files with
 * their types stripped and never checks them, so a file outside tsconfig.json's `include` (as
 * interop/test-plans/perf-compare.ts was) can drift from the types it uses until it fails at run
 * time. This test asks TypeScript which files the project's tsconfig.json selects and lists every
 * tracked .ts file it does not.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import ts from 'typescript'
import { repoRoot } from './support/import-graph.ts'

/** Folders that hold no source of ours: installed packages, build output, toolchain caches. */
const NOT_SOURCE = new Set(['node_modules', 'dist', 'target', 'bin'])

/** Every .ts file under the repository, skipping dot folders and the folders above. */
function tsFilesUnder (dir: string, found: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      if (!NOT_SOURCE.has(entry.name)) tsFilesUnder(path, found)
    } else if (/\.(c|m)?tsx?$/.test(entry.name)) {
      found.push(relative(repoRoot, path).split(sep).join('/'))
    }
  }
  return found
}

/** The files tsconfig.json selects (its include, exclude and files), relative to the repository. */
function typecheckedFiles (): Set<string> {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(repoRoot, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: diagnostic => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
    }
  })
  assert.ok(parsed !== undefined, 'tsconfig.json parses')
  return new Set(parsed.fileNames.map(file => relative(repoRoot, file).split(sep).join('/')))
}

test('tsconfig.json includes every .ts file of the repository, so npm run typecheck checks it', () => {
  const checked = typecheckedFiles()
  const all = tsFilesUnder(repoRoot)
  assert.ok(all.includes('interop/test-plans/perf-compare.ts'), 'the walk finds interop/ files')
  assert.ok(all.length > 500, `the walk finds the sources (${all.length} files)`)
  const unchecked = all.filter(file => !checked.has(file))
  assert.deepEqual(unchecked, [], 'add these files\' folders to tsconfig.json "include"')
})
