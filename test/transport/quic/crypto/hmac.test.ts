/**
 * Our HMAC-SHA256 (hmac.node.ts, the key schedule's HMAC) against RFC 4231's test cases 1-4, 6
 * and 7 (6 and 7 have keys longer than the block, which get hashed first), against node:crypto's
 * createHmac on random keys and messages of every length around the block size, and one key
 * reused for many MACs.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, randomBytes } from 'node:crypto'
import { HmacSha256Key, hmacSha256 } from '../../../../src/transport/quic/crypto/hmac.node.ts'

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'))
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const text = (s: string): Uint8Array => new TextEncoder().encode(s)

const RFC4231: Array<{ name: string, key: Uint8Array, data: Uint8Array, mac: string }> = [
  { name: '1', key: new Uint8Array(20).fill(0x0b), data: text('Hi There'), mac: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7' },
  { name: '2', key: text('Jefe'), data: text('what do ya want for nothing?'), mac: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843' },
  { name: '3', key: new Uint8Array(20).fill(0xaa), data: new Uint8Array(50).fill(0xdd), mac: '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe' },
  { name: '4', key: hex('0102030405060708090a0b0c0d0e0f10111213141516171819'), data: new Uint8Array(50).fill(0xcd), mac: '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b' },
  { name: '6', key: new Uint8Array(131).fill(0xaa), data: text('Test Using Larger Than Block-Size Key - Hash Key First'), mac: '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54' },
  {
    name: '7',
    key: new Uint8Array(131).fill(0xaa),
    data: text('This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.'),
    mac: '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2'
  }
]

for (const vector of RFC4231) {
  test(`RFC 4231 test case ${vector.name}`, () => {
    assert.equal(toHex(hmacSha256(vector.key, vector.data)), vector.mac)
  })
}

test('equals createHmac for keys and messages of 0..130 bytes, the message given in parts', () => {
  for (let keyLength = 0; keyLength <= 130; keyLength += 13) {
    const key = randomBytes(keyLength)
    for (let length = 0; length <= 130; length++) {
      const data = randomBytes(length)
      const cut = length >> 1
      const expected = createHmac('sha256', key).update(data).digest('hex')
      assert.equal(toHex(hmacSha256(key, data.subarray(0, cut), data.subarray(cut))), expected, `key ${keyLength}, message ${length}`)
    }
  }
})

test('one prepared key gives the same MACs every time (no state carried between calls)', () => {
  const key = randomBytes(32)
  const prepared = new HmacSha256Key(key)
  for (let i = 0; i < 50; i++) {
    const data = randomBytes(i * 7)
    assert.equal(toHex(prepared.mac(data)), createHmac('sha256', key).update(data).digest('hex'))
  }
})
