/**
 * The package's front door stays small: the root module exports createLibp2p, the errors and
 * the peer id / key / multiaddr helpers (types aside), loading it loads no component the
 * application did not ask for, and every subpath export points at a module that exists.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
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
  const listed = [...section.matchAll(/^\| `(ts-libp2p(?:\/[a-z-]+)?)` \|/gm)].map(m => m[1].replace(/^ts-libp2p/, '.'))
  assert.deepEqual(listed.sort(), Object.keys(pkg.exports).sort())
})
