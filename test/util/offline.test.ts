import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { isOffline, OFFLINE_ENV } from '../../src/util/offline.ts'

test('the offline switch: explicit values win, unset means offline only under node --test', () => {
  assert.equal(isOffline({ [OFFLINE_ENV]: '1' }), true)
  assert.equal(isOffline({ [OFFLINE_ENV]: 'true' }), true)
  assert.equal(isOffline({ [OFFLINE_ENV]: '0', NODE_TEST_CONTEXT: 'child-v8' }), false)
  assert.equal(isOffline({ [OFFLINE_ENV]: 'false' }), false)
  assert.equal(isOffline({}), false)
  assert.equal(isOffline({ NODE_TEST_CONTEXT: 'child-v8' }), true)
  // no process.env at all (a browser): online unless options say otherwise
  assert.equal(isOffline(null), false)
})

test('this test process and every process it starts are offline', () => {
  assert.equal(isOffline(), true, `${OFFLINE_ENV} must be on in tests (npm test sets it; node --test implies it)`)
  const module = fileURLToPath(new URL('../../src/util/offline.ts', import.meta.url))
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', `import { isOffline } from ${JSON.stringify(module)}; process.stdout.write(String(isOffline()))`], { encoding: 'utf8' })
  assert.equal(out, 'true')
})
