import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { isNodeOnlySpecifier, reachableFrom } from '../support/import-graph.ts'

describe('browser safety of the front door', () => {
  it('src/index.ts reaches no Node built-in when package imports resolve for browsers', () => {
    const { files, bare } = reachableFrom('src/index.ts', 'default')
    assert.deepEqual([...bare].filter(isNodeOnlySpecifier), [])
    assert.ok(![...files].some(f => f.endsWith('.node.ts')), 'no *.node.ts module is reachable')
    assert.ok([...files].some(f => f.endsWith('src/node/defaults.browser.ts')))
  })
})
