/**
 * No Node built-in anywhere in a browser graph: every public subpath export is bundled by
 * esbuild for the browser (the conditions a browser bundler uses, so package.json "imports"
 * resolve to the *.browser.ts files) and any `node:` or bare built-in import fails the test,
 * naming the importer. The subpaths that are Node-only by nature (TCP, QUIC, the daemon's
 * local sockets, UPnP/NAT-PMP over UDP, mDNS over UDP multicast) are listed here, and the test checks that they really
 * need Node, so the list cannot rot.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'
import { rejectNodeBuiltins } from '../support/browser/index.ts'
import { repoRoot } from '../support/import-graph.ts'

const NODE_ONLY_SUBPATHS = ['./tcp', './quic', './daemon-client', './upnp-nat', './mdns', './metrics-server', './dashboard']

const exportsMap = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { exports: Record<string, { import: string }> }).exports

/** The source module behind a subpath export (exports point at dist/, built from src/). */
const sourceOf = (subpath: string): string => join(repoRoot, exportsMap[subpath].import.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'))

async function nodeBuiltinsReached (subpath: string): Promise<string[]> {
  const found: string[] = []
  try {
    await build({ entryPoints: [sourceOf(subpath)], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent', plugins: [rejectNodeBuiltins(found)] })
  } catch (err) {
    if (found.length === 0) throw err
  }
  return found
}

test('every public subpath export bundles for the browser with no Node built-in in its graph', async () => {
  const offenders: string[] = []
  for (const subpath of Object.keys(exportsMap)) {
    if (NODE_ONLY_SUBPATHS.includes(subpath)) continue
    for (const edge of await nodeBuiltinsReached(subpath)) offenders.push(`${subpath}: ${edge.replace(repoRoot + '/', '')}`)
  }
  assert.deepEqual(offenders, [])
})

test('the Node-only subpaths listed here are exported and do need Node', async () => {
  for (const subpath of NODE_ONLY_SUBPATHS) {
    assert.ok(subpath in exportsMap, `${subpath} is a subpath export`)
    assert.ok((await nodeBuiltinsReached(subpath)).length > 0, `${subpath} bundles for the browser: take it off NODE_ONLY_SUBPATHS`)
  }
})
