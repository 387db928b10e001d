/**
 * Wire-level interop with js-libp2p's @libp2p/multistream-select over a loopback TCP socket
 * pair: our dialer against their listener (including `na` fallback and lazy select with data
 * in the same write), and their dialer against our listener.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { handle, lazySelect, select } from '../../src/mss/index.ts'
import { UnsupportedProtocolError } from '../../src/util/errors.ts'
import { utf8Decode, utf8Encode } from '../../src/util/bytes.ts'
import { js, jsConn, ourConn, socketPair } from './security/js-interop.ts'

const skip = js === undefined ? 'js-libp2p modules not installed' : false

async function jsReadOnce (stream: any): Promise<Uint8Array> {
  for await (const chunk of stream) return chunk instanceof Uint8Array ? chunk : chunk.subarray()
  throw new Error('stream ended')
}

test('mss interop: our select against the js listener, with na fallback', { skip }, async () => {
  const [a, b] = await socketPair('listener')
  const mine = ourConn(a, 'outbound')
  const theirs = jsConn(b, 'inbound')
  const [selected, handled] = await Promise.all([
    select(mine, ['/unknown/1.0.0', '/echo/1.0.0']),
    js.mss.handle(theirs, ['/echo/1.0.0', '/other/1.0.0'])
  ])
  assert.equal(selected, '/echo/1.0.0')
  assert.equal(handled, '/echo/1.0.0')
  await mine.write(utf8Encode('after negotiation'))
  assert.equal(utf8Decode(await jsReadOnce(theirs)), 'after negotiation')
  mine.abort(new Error('done'))
})

test('mss interop: js select against our listener', { skip }, async () => {
  const [a, b] = await socketPair('dialer')
  const theirs = jsConn(a, 'outbound')
  const mine = ourConn(b, 'inbound')
  const [selected, handled] = await Promise.all([
    js.mss.select(theirs, ['/nope/1.0.0', '/ipfs/ping/1.0.0']),
    handle(mine, ['/ipfs/ping/1.0.0'])
  ])
  assert.equal(selected, '/ipfs/ping/1.0.0')
  assert.equal(handled, '/ipfs/ping/1.0.0')
  theirs.send(utf8Encode('ping'))
  assert.equal(utf8Decode((await mine.read())!), 'ping')
  mine.abort(new Error('done'))
})

test('mss interop: our lazy select puts proposal and data in one write; js hands the data on', { skip }, async () => {
  const [a, b] = await socketPair('listener')
  const mine = lazySelect(ourConn(a, 'outbound'), '/echo/1.0.0')
  const theirs = jsConn(b, 'inbound')
  await mine.write(utf8Encode('early'))
  assert.equal(await js.mss.handle(theirs, ['/echo/1.0.0']), '/echo/1.0.0')
  assert.equal(utf8Decode(await jsReadOnce(theirs)), 'early')
  theirs.send(utf8Encode('reply'))
  assert.equal(utf8Decode((await mine.read())!), 'reply')
  mine.abort(new Error('done'))
})

test('mss interop: our lazy select refused by js fails with UnsupportedProtocolError', { skip }, async () => {
  const [a, b] = await socketPair('listener')
  const mine = lazySelect(ourConn(a, 'outbound'), '/missing/1.0.0')
  const theirs = jsConn(b, 'inbound')
  void js.mss.handle(theirs, ['/echo/1.0.0']).catch(() => {})
  await mine.write(utf8Encode('x'))
  await assert.rejects(mine.read(), UnsupportedProtocolError)
  theirs.abort(new Error('done'))
})
