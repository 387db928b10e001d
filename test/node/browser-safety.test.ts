import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { imports: Record<string, { node: string, default: string }> }

/** Every source file reachable from `entry` when package imports resolve to their browser (default) target. */
function browserGraph (entry: string): { files: Set<string>, bare: Set<string> } {
  const files = new Set<string>()
  const bare = new Set<string>()
  const queue = [resolve(root, entry)]
  while (queue.length > 0) {
    const file = queue.pop()!
    if (files.has(file)) continue
    files.add(file)
    const text = readFileSync(file, 'utf8')
    // static imports and re-exports, including `import type` (harmless but cheap to follow)
    for (const match of text.matchAll(/(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)/g)) {
      const spec = match[1] ?? match[2]
      if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec))
      else if (spec.startsWith('#')) queue.push(resolve(root, pkg.imports[spec].default))
      else bare.add(spec)
    }
  }
  return { files, bare }
}

describe('browser safety of the front door', () => {
  it('src/index.ts reaches no Node built-in when package imports resolve for browsers', () => {
    const { files, bare } = browserGraph('src/index.ts')
    const nodeBuiltins = [...bare].filter(s => s.startsWith('node:') || ['net', 'fs', 'crypto', 'os', 'path', 'dgram', 'tls', 'http', 'ws'].includes(s))
    assert.deepEqual(nodeBuiltins, [])
    assert.ok(![...files].some(f => f.endsWith('.node.ts')), 'no *.node.ts module is reachable')
    assert.ok([...files].some(f => f.endsWith('src/node/defaults.browser.ts')))
  })
})
