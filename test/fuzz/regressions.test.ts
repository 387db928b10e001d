/**
 * Every crash the fuzzer found, replayed: test/fuzz/crashes/<target>-<anything>.hex holds the
 * input (hex) that made <target> crash, hang or over-allocate; once the decoder is fixed it must
 * answer that input with a typed error (or accept it) within the fuzzer's limits.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { fromHex } from './engine.ts'
import { isTypedError } from './target.ts'
import { targets } from './targets.ts'

const CRASH_DIR = fileURLToPath(new URL('./crashes/', import.meta.url))
const files = existsSync(CRASH_DIR) ? readdirSync(CRASH_DIR).filter(f => f.endsWith('.hex')) : []

test('every saved crash names a target', () => {
  for (const file of files) assert.ok(targets.some(t => file.startsWith(`${t.name}-`)), `${file}: no target of that name`)
})

for (const file of files) {
  const target = targets.find(t => file.startsWith(`${t.name}-`))
  if (target === undefined) continue
  test(`fuzz regression ${file}`, async () => {
    const input = fromHex(readFileSync(CRASH_DIR + file, 'utf8').trim())
    const started = performance.now()
    try {
      await target.run(input)
    } catch (err) {
      assert.ok(isTypedError(err, target), `untyped: ${(err as Error)?.stack ?? String(err)}`)
    }
    assert.ok(performance.now() - started < 2000, 'answered within the fuzzer\'s slow limit')
  })
}
