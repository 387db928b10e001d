/**
 * The package's front door stays small: the root module exports createLibp2p, the errors and
 * the peer id / key / multiaddr helpers (types aside), loading it loads no component the
 * application did not ask for, and every subpath export points at a module that exists.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import * as root from '../src/index.ts'
import * as errors from '../src/util/errors.ts'
import { reachableFrom, repoRoot } from './support/import-graph.ts'

const HELPERS = [
  'createLibp2p',
  'generateKeyPair', 'generateKeyPairFromSeed', 'privateKeyFromProtobuf', 'privateKeyToProtobuf', 'publicKeyFromProtobuf', 'publicKeyToProtobuf',
  'peerIdFromPrivateKey', 'peerIdFromPublicKey', 'peerIdFromString', 'isPeerId',
  'multiaddr', 'isMultiaddr',
  'KEEP_ALIVE'
]
const ERRORS = [...Object.keys(errors), 'DialError', 'NoPeerRoutersError', 'NoContentRoutersError']

test('the root module exports exactly createLibp2p, the helpers and the errors', () => {
  assert.deepEqual(Object.keys(root).sort(), [...HELPERS, ...ERRORS].sort())
  for (const name of ERRORS) {
    const value = (root as Record<string, unknown>)[name]
    assert.equal(typeof value, 'function', name)
    assert.ok(name === 'Libp2pError' || (value as { prototype: unknown }).prototype instanceof errors.Libp2pError, `${name} is a Libp2pError`)
  }
})

// The node itself needs a datastore: the in-memory one (store/memory.ts) is its default.
test('loading the root module loads no DHT, pubsub, WebSockets or other component', () => {
  for (const condition of ['node', 'default'] as const) {
    const { files } = reachableFrom('src/index.ts', condition, true)
    const loaded = [...files].map(f => relative(join(repoRoot, 'src'), f))
    const components = loaded.filter(f => /^(dht|pubsub|protocols|discovery|transport|security|muxer)\//.test(f))
    assert.deepEqual(components, [], `${condition}: ${components.join(', ')}`)
  }
})

test('every subpath export points at an existing source module', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { exports: Record<string, { import: string, types: string }> }
  const subpaths = Object.keys(pkg.exports)
  assert.ok(subpaths.length > 15)
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const source = target.import.replace(/^\.\/dist\/(.*)\.js$/, 'src/$1.ts')
    assert.ok(existsSync(join(repoRoot, source)), `${subpath} -> ${source}`)
    assert.equal(target.types, target.import.replace(/\.js$/, '.d.ts'), `${subpath} types`)
  }
})

test('the README\'s component table lists every subpath export, and only those', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { exports: Record<string, unknown> }
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Components'), readme.indexOf('## Command line'))
  const listed = [...section.matchAll(/^\| `(ts-libp2p(?:\/[a-z0-9-]+)?)` \|/gm)].map(m => m[1].replace(/^ts-libp2p/, '.'))
  assert.deepEqual(listed.sort(), Object.keys(pkg.exports).sort())
})

/**
 * Runs `script` in a fresh Node process that records every module it loads (a load hook), and
 * returns those modules' paths inside the repository: the runtime counterpart of the import
 * graph above, which also sees what a module imports dynamically while it loads.
 */
function modulesLoadedBy (script: string): string[] {
  const program = `
import { registerHooks } from 'node:module'
const loaded = []
registerHooks({ load (url, context, nextLoad) { loaded.push(url); return nextLoad(url, context) } })
${script}
process.stdout.write(JSON.stringify(loaded))
`
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', program], { cwd: repoRoot, encoding: 'utf8' })
  return (JSON.parse(out) as string[]).filter(url => url.startsWith('file:')).map(url => relative(repoRoot, fileURLToPath(url)))
}

test('importing the root loads no DHT, pubsub or WebSockets module at run time (creating a default node does)', () => {
  const root = pathToFileURL(join(repoRoot, 'src/index.ts')).href
  const heavy = (files: string[]): string[] => files.filter(f => /^src\/(dht|pubsub|transport\/websockets)\/|node_modules\/ws\//.test(f))
  const onImport = modulesLoadedBy(`await import(${JSON.stringify(root)})`)
  assert.ok(onImport.includes('src/index.ts'), 'the hook saw the root module')
  assert.deepEqual(heavy(onImport), [])
  // the default node (Node.js: TCP and WebSockets) loads WebSockets lazily: the hook sees it
  const onDefaultNode = modulesLoadedBy(`const { createLibp2p } = await import(${JSON.stringify(root)}); const node = await createLibp2p({ start: false }); await node.stop()`)
  assert.ok(heavy(onDefaultNode).some(f => f.startsWith('src/transport/websockets/')), 'a default node loads WebSockets')
})
