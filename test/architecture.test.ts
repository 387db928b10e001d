/**
 * The layering of src/ stays true: every import (type-only ones too) points to a lower layer
 * of the list in the README's "Design in one paragraph" section, never up and never sideways
 * between two layers on one line; and a module that needs Node built-ins says so in its name
 * (`*.node.ts`) unless its whole folder is Node-only.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { importsOf, isNodeOnlySpecifier, repoRoot } from './support/import-graph.ts'
import type { ImportEdge } from './support/import-graph.ts'

/** Folders of src/ whose every module is Node-only (their module docs say so). */
const NODE_ONLY_FOLDERS = ['src/cli/', 'src/daemon/', 'src/transport/tcp/', 'src/transport/quic/']

/**
 * The README's layer list: one line per layer, highest first; the names on one line (separated
 * by single spaces) are peers, and two or more spaces start the line's description.
 */
function readmeLayers (): string[][] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Design in one paragraph'))
  const block = /```text\n([\s\S]*?)```/.exec(section)
  assert.ok(block !== null, 'the README design section has a ```text layer list')
  return parseLayerList(block[1])
}

/** Parses a layer list (see readmeLayers); throws on a name that is not a folder or file name. */
export function parseLayerList (text: string): string[][] {
  return text.split('\n').filter(line => line.trim() !== '').map(line => {
    const names = line.trim().split(/\s{2,}/)[0].split(' ')
    for (const name of names) {
      if (!LAYER_NAME.test(name)) throw new Error(`layer list line '${line.trim()}': '${name}' is not a layer name (names, then two spaces, then the description)`)
    }
    return names
  })
}
const LAYER_NAME = /^(index\.ts|[a-z]+(-[a-z]+)*)$/

/** The layer of a src/ file: its first path segment, or the file name at the top. */
function layerOf (srcRelative: string): string {
  const [first] = srcRelative.split(sep)
  return first
}

export interface Violation { from: string, to: string, fromLayer: string, toLayer: string, why: string }

/** Checks import edges (paths relative to src/) against a layer list, highest first. */
export function checkLayering (edges: Array<{ from: string, to: string }>, layers: string[][]): Violation[] {
  const rank = new Map<string, number>()
  layers.forEach((names, i) => { for (const name of names) rank.set(name, layers.length - i) })
  const violations: Violation[] = []
  for (const { from, to } of edges) {
    const fromLayer = layerOf(from)
    const toLayer = layerOf(to)
    if (fromLayer === toLayer) continue
    const fromRank = rank.get(fromLayer)
    const toRank = rank.get(toLayer)
    if (fromRank === undefined || toRank === undefined) {
      violations.push({ from, to, fromLayer, toLayer, why: `layer '${fromRank === undefined ? fromLayer : toLayer}' is not in the README's layer list` })
    } else if (toRank > fromRank) {
      violations.push({ from, to, fromLayer, toLayer, why: 'points up' })
    } else if (toRank === fromRank) {
      violations.push({ from, to, fromLayer, toLayer, why: 'points sideways (two layers on one line may not import each other)' })
    }
  }
  return violations
}

function sourceFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter(entry => entry.isFile() && entry.name.endsWith('.ts'))
    .map(entry => join(entry.parentPath, entry.name))
}

const src = join(repoRoot, 'src')
const files = sourceFiles(src)
const edges: ImportEdge[] = files.flatMap(file => [...importsOf(file, 'node'), ...importsOf(file, 'default')])

test('every import in src/ points down the README\'s layer list', () => {
  const layers = readmeLayers()
  assert.ok(layers.length >= 10, `the README lists the layers (found ${layers.length} lines)`)
  const internal = edges.filter(e => e.to !== undefined).map(e => ({ from: relative(src, e.from), to: relative(src, e.to!) }))
  assert.ok(internal.length > 500, 'the graph was read')
  const violations = checkLayering(internal, layers)
  assert.deepEqual([...new Set(violations.map(v => `src/${v.from} (${v.fromLayer}) imports src/${v.to} (${v.toLayer}): ${v.why}`))], [])
})

test('every src/ folder is a layer of the README\'s list', () => {
  const named = new Set(readmeLayers().flat())
  const folders = readdirSync(src)
  assert.deepEqual(folders.filter(f => !named.has(f)), [])
})

test('the layer list is read by column: names on one line, then the description', () => {
  assert.deepEqual(parseLayerList('cli       the command\nindex.ts  the front door\nprotocols dht  services: a, b\n\nutil      helpers\n'),
    [['cli'], ['index.ts'], ['protocols', 'dht'], ['util']])
  assert.throws(() => parseLayerList('transport muxer transports; yamux\n'), /'transports;' is not a layer name/)
})

test('the layering check catches imports that point up or sideways, and unknown layers', () => {
  const layers = [['node'], ['protocols', 'dht'], ['util'], ['interface']]
  const found = checkLayering([
    { from: 'node/a.ts', to: 'util/b.ts' },
    { from: 'util/b.ts', to: 'interface/c.ts' },
    { from: 'util/b.ts', to: 'node/a.ts' },
    { from: 'protocols/p.ts', to: 'dht/d.ts' },
    { from: 'protocols/p.ts', to: 'protocols/q.ts' },
    { from: 'relay/r.ts', to: 'util/b.ts' }
  ], layers)
  assert.deepEqual(found.map(v => `${v.from}->${v.to}: ${v.why}`), [
    'util/b.ts->node/a.ts: points up',
    'protocols/p.ts->dht/d.ts: points sideways (two layers on one line may not import each other)',
    "relay/r.ts->util/b.ts: layer 'relay' is not in the README's layer list"
  ])
})

test('the import graph sees every kind of import: static, type-only, re-exports, dynamic, #imports per condition', () => {
  const file = join(src, 'switch', 'synthetic.ts')
  const text = [
    "import { a } from './a.ts'",
    'import type { B } from "../interface/b.ts"',
    'import {',
    '  c1,',
    '  type c2',
    "} from '../util/c.ts'",
    "export * from './d.ts'",
    "export type { E } from '../peer/e.ts'",
    'export type Shape = {',
    '  size: number',
    '}',
    "import { f } from '../mss/f.ts'",
    "const lazy = await import('../node/g.ts')",
    "import '#store-disk'",
    "import { connect } from 'node:net'"
  ].join('\n')
  const seen = (condition: 'node' | 'default'): string[] => importsOf(file, condition, text).map(e =>
    `${e.to === undefined ? e.specifier : relative(src, e.to)}${e.typeOnly ? ' type' : ''}${e.dynamic ? ' dynamic' : ''}`)
  assert.deepEqual(seen('node'), [
    'switch/a.ts', 'interface/b.ts type', 'util/c.ts', 'switch/d.ts', 'peer/e.ts type', 'mss/f.ts',
    'node/g.ts dynamic', 'store/sqlite.node.ts', 'node:net'
  ])
  assert.equal(seen('default')[7], 'store/disk.browser.ts')
  // the dynamic import upward is caught like a static one
  const layers = [['node'], ['store'], ['switch'], ['mss'], ['peer'], ['util'], ['interface']]
  const internal = importsOf(file, 'node', text).filter(e => e.to !== undefined).map(e => ({ from: relative(src, e.from), to: relative(src, e.to!) }))
  assert.deepEqual(checkLayering(internal, layers).map(v => `${v.to}: ${v.why}`), ['node/g.ts: points up', 'store/sqlite.node.ts: points up'])
  assert.throws(() => importsOf(file, 'node', 'const name = "./x.ts"\nawait import(name)'), /computed specifier/)
})

test('a module that needs Node built-ins is named *.node.ts or lives in a Node-only folder', () => {
  const offenders = new Set<string>()
  for (const edge of edges) {
    if (edge.to !== undefined || !isNodeOnlySpecifier(edge.specifier)) continue
    const path = relative(repoRoot, edge.from)
    if (path.endsWith('.node.ts') || NODE_ONLY_FOLDERS.some(folder => path.startsWith(folder))) continue
    offenders.add(`${path} imports ${edge.specifier}`)
  }
  assert.deepEqual([...offenders], [])
})

test('timers come from the toolkit: no raw AbortSignal.timeout, unref or setImmediate outside util/timers.ts and util/deadline.ts', () => {
  const offenders: string[] = []
  for (const file of files) {
    const path = relative(repoRoot, file)
    if (path === join('src', 'util', 'timers.ts') || path === join('src', 'util', 'deadline.ts')) continue
    const code = readFileSync(file, 'utf8').split('\n').filter(line => !/^\s*(\/\/|\*|\/\*)/.test(line)).join('\n')
    for (const pattern of [/AbortSignal\.timeout\(/, /\.unref\(\)/, /\bsetImmediate\(/]) {
      if (pattern.test(code)) offenders.push(`${path}: ${pattern.source}`)
    }
  }
  assert.deepEqual(offenders, [])
})
