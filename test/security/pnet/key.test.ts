import { test } from 'node:test'
import assert from 'node:assert/strict'
import { xsalsa20 } from '@noble/ciphers/salsa.js'
import { decodePreSharedKey, encodePreSharedKey, generatePreSharedKey, InvalidPreSharedKeyError } from '../../../src/security/pnet/index.ts'
import { XSalsa20Stream } from '../../../src/security/pnet/xsalsa20-stream.ts'

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1)
const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

test('pnet key: the three encodings of the V1 key file decode to the same key', () => {
  const hex = Buffer.from(KEY).toString('hex')
  const b64 = Buffer.from(KEY).toString('base64')
  assert.deepEqual(decodePreSharedKey(enc(`/key/swarm/psk/1.0.0/\n/base16/\n${hex}`)), KEY)
  assert.deepEqual(decodePreSharedKey(enc(`/key/swarm/psk/1.0.0/\n/base16/\n${hex.toUpperCase()}\n`)), KEY)
  assert.deepEqual(decodePreSharedKey(enc(`/key/swarm/psk/1.0.0/\r\n/base64/\r\n${b64}\r\n`)), KEY)
  assert.deepEqual(decodePreSharedKey(Buffer.concat([enc('/key/swarm/psk/1.0.0/\n/bin/\n'), KEY])), KEY)
  for (const encoding of ['base16', 'base64', 'bin'] as const) {
    assert.deepEqual(decodePreSharedKey(encodePreSharedKey(KEY, encoding)), KEY)
  }
  assert.equal(decodePreSharedKey(generatePreSharedKey()).length, 32)
  assert.notDeepEqual(decodePreSharedKey(generatePreSharedKey()), decodePreSharedKey(generatePreSharedKey()))
})

test('pnet key: malformed key files give InvalidPreSharedKeyError', () => {
  const hex = Buffer.from(KEY).toString('hex')
  const bad = [
    '',
    `/key/swarm/psk/2.0.0/\n/base16/\n${hex}`,
    `/key/swarm/psk/1.0.0/\n/base32/\n${hex}`,
    `/key/swarm/psk/1.0.0/\n/base16/\n${hex.slice(2)}`,
    `/key/swarm/psk/1.0.0/\n/base16/\n${hex}00`,
    `/key/swarm/psk/1.0.0/\n/base16/\n${hex.slice(1)}x`,
    `/key/swarm/psk/1.0.0/\n/base64/\n!!${hex}`,
    `/key/swarm/psk/1.0.0/\n/base16/${hex}`,
    `/key/swarm/psk/1.0.0/\n/base16/\n${'0'.repeat(2000)}`
  ]
  for (const file of bad) assert.throws(() => decodePreSharedKey(enc(file)), InvalidPreSharedKeyError, JSON.stringify(file.slice(0, 60)))
  assert.throws(() => decodePreSharedKey(Buffer.concat([enc('/key/swarm/psk/1.0.0/\n/bin/\n'), KEY, Uint8Array.of(0)])), InvalidPreSharedKeyError)
})

test('pnet: the XSalsa20 stream over any chunking equals one pass of xsalsa20', () => {
  const nonce = Uint8Array.from({ length: 24 }, (_, i) => 255 - i)
  const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 13) & 0xff)
  const expected = xsalsa20(KEY, nonce, data)
  for (const sizes of [[1], [63, 1, 64, 65], [7, 200, 3], [5000], [64, 64, 1000, 17]]) {
    const stream = new XSalsa20Stream(KEY, nonce)
    const out = new Uint8Array(data.length)
    let k = 0
    for (let offset = 0; offset < data.length; k++) {
      const size = Math.min(sizes[k % sizes.length], data.length - offset)
      const piece = data.slice(offset, offset + size)
      // in place, as incoming chunks are decrypted
      out.set(stream.xor(piece), offset)
      offset += size
    }
    assert.deepEqual(out, expected, JSON.stringify(sizes))
  }
})
