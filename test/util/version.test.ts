import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { VERSION } from '../../src/util/version.ts'
import { version } from '../../src/cli/cli.ts'

test('the version constant is package.json\'s version, and the CLI prints it', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  assert.equal(VERSION, pkg.version)
  assert.equal(version(), pkg.version)
})
