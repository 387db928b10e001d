/** bench:browser --analyze: the package grouping and the import chain it prints are right. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { packageOf, whyIncluded } from '../../bench/browser/analyze.ts'
import { bundle, entryFile } from '../../bench/browser/esbuild-bundle.ts'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

test('packageOf names scoped and plain packages, and our folders', () => {
  assert.equal(packageOf('node_modules/@noble/curves/abstract/weierstrass.js'), '@noble/curves')
  assert.equal(packageOf('../main/node_modules/multiformats/dist/src/cid.js'), 'multiformats')
  assert.equal(packageOf('node_modules/a/node_modules/@x/y/z.js'), '@x/y')
  assert.equal(packageOf('src/muxer/yamux/muxer.ts'), 'src/muxer/yamux')
  assert.equal(packageOf('src/node/libp2p.ts'), 'src/node')
})

test('whyIncluded walks the real metafile from the entry to a module it imports', async () => {
  const { metafile } = await bundle('ts', false)
  const entry = relative(REPO_ROOT, entryFile('ts'))
  const chain = whyIncluded(metafile, entry, 'src/muxer/yamux/muxer.ts')
  assert.ok(chain !== undefined)
  assert.equal(chain[0], entry)
  assert.ok(chain.at(-1)?.endsWith('src/muxer/yamux/muxer.ts'))
  for (let i = 1; i < chain.length; i++) {
    assert.ok(metafile.inputs[chain[i - 1]].imports.some(imp => imp.path === chain[i]), `${chain[i - 1]} imports ${chain[i]}`)
  }
  assert.equal(whyIncluded(metafile, entry, 'src/transport/tcp/'), undefined, 'no TCP in a browser graph')
})
