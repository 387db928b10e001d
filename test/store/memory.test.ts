import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryDatastore } from '../../src/store/memory.ts'
import { createDatastore } from '../../src/store/index.ts'
import { compareKeys, prefixUpperBound } from '../../src/store/keys.ts'
import { utf8Encode } from '../../src/util/bytes.ts'
import { datastoreSuite } from './datastore-suite.ts'

datastoreSuite('memory', () => new MemoryDatastore())

test('createDatastore() without a directory is in memory', () => {
  assert.ok(createDatastore() instanceof MemoryDatastore)
})

function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}

test('compareKeys agrees with UTF-8 byte order', () => {
  const samples = ['', 'a', 'ab', 'b', '\u007f', '\u0080', '\u07ff', '\u0800', '\uD7FF', '\uE000', '\uFFFD', '\uFFFF', '\u{10000}', '\u{1F600}', '\u{10FFFF}', 'a\u{10000}', 'a\uFFFF']
  for (const a of samples) {
    for (const b of samples) {
      assert.equal(Math.sign(compareKeys(a, b)), Math.sign(compareBytes(utf8Encode(a), utf8Encode(b))), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`)
    }
  }
})

test('prefixUpperBound bounds exactly the keys with the prefix', () => {
  assert.equal(prefixUpperBound(''), undefined)
  assert.equal(prefixUpperBound('/a'), '/b')
  assert.equal(prefixUpperBound('/\uD7FF'), '/\uE000')
  assert.equal(prefixUpperBound('/\u{10FFFF}'), '0')
  assert.equal(prefixUpperBound('\u{10FFFF}'), undefined)
  const prefix = '/p\uFFFF'
  const bound = prefixUpperBound(prefix) as string
  for (const k of [prefix, prefix + '\u{10FFFF}\u{10FFFF}', prefix + '\u0000']) assert.ok(compareKeys(k, bound) < 0, k)
  assert.ok(compareKeys('/q', bound) >= 0)
})
