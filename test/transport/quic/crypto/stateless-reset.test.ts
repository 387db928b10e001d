import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { STATELESS_RESET_TOKEN_LENGTH, statelessResetToken, statelessResetTokensEqual } from '../../../../src/transport/quic/crypto/stateless-reset.node.ts'

test('stateless reset tokens: 16 bytes, stable per (key, connection id), distinct otherwise, HMAC-SHA256 truncated', () => {
  const key = new Uint8Array(32).fill(9)
  const cid = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)
  const token = statelessResetToken(key, cid)
  assert.equal(token.length, STATELESS_RESET_TOKEN_LENGTH)
  assert.deepEqual(token, statelessResetToken(key, cid.slice()))
  assert.deepEqual(Buffer.from(token), createHmac('sha256', key).update(cid).digest().subarray(0, 16))
  assert.notDeepEqual(token, statelessResetToken(key, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 9)))
  assert.notDeepEqual(token, statelessResetToken(new Uint8Array(32).fill(8), cid))
  assert.equal(statelessResetTokensEqual(token, statelessResetToken(key, cid)), true)
  assert.equal(statelessResetTokensEqual(token, new Uint8Array(16)), false)
  assert.equal(statelessResetTokensEqual(token, token.subarray(0, 15)), false)
  assert.throws(() => statelessResetToken(new Uint8Array(15), cid), RangeError)
  assert.throws(() => statelessResetToken(key, new Uint8Array(21)), RangeError)
})
