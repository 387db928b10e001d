/**
 * The Bitswap message codec: each version's fields round-trip, what a version cannot carry is
 * left out, and hostile bytes get typed errors within the limits.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeMessage, encodeMessage, encodeMessageLP, MAX_MESSAGE_SIZE, WANT_HAVE, PRESENCE_DONT_HAVE, type BitswapMessage } from '../../src/exchange/bitswap/message.ts'
import { FrameReader } from '../../src/exchange/bitswap/frames.ts'
import { cidOf, cidPrefix, cidFromPrefix, CODEC_RAW, CODEC_DAG_PB } from '../../src/exchange/cid.ts'
import { InvalidMessageError, MessageTooLargeError, UnexpectedEOFError } from '../../src/util/errors.ts'
import { UnsupportedCidError } from '../../src/exchange/errors.ts'
import { duplexPair } from '../../src/util/duplex-pair.ts'
import { seededBytes } from '../support/random.ts'

const block = seededBytes(3000, 1)
const cid = cidOf(block, CODEC_RAW, 1)

function sample (): BitswapMessage {
  return {
    wantlist: { entries: [{ cid: cid.bytes, priority: -5, cancel: false, wantType: WANT_HAVE, sendDontHave: true }, { cid: cid.bytes, priority: 7, cancel: true, wantType: 0, sendDontHave: false }], full: true },
    blocks: [{ prefix: cidPrefix(cid), data: block }],
    presences: [{ cid: cid.bytes, type: PRESENCE_DONT_HAVE }],
    pendingBytes: 123456
  }
}

test('1.2.0 carries everything and round-trips', () => {
  const msg = sample()
  const back = decodeMessage(encodeMessage(msg, '1.2.0'))
  assert.deepEqual(back, msg)
})

test('1.1.0 drops want types, presences and pending bytes; 1.0.0 sends raw blocks', () => {
  const v11 = decodeMessage(encodeMessage(sample(), '1.1.0'))
  assert.equal(v11.wantlist?.entries[0].wantType, 0)
  assert.equal(v11.wantlist?.entries[0].sendDontHave, false)
  assert.deepEqual(v11.presences, [])
  assert.equal(v11.pendingBytes, 0)
  assert.deepEqual(v11.blocks[0].data, block)
  const v10 = decodeMessage(encodeMessage(sample(), '1.0.0'))
  assert.equal(v10.blocks[0].prefix, undefined)
  assert.deepEqual(v10.blocks[0].data, block)
})

test('a block\'s CID comes from its prefix and its bytes', () => {
  assert.equal(cidFromPrefix(cidPrefix(cid), block).toString(), cid.toString())
  const pb = cidOf(block, CODEC_DAG_PB, 0)
  assert.equal(cidFromPrefix(cidPrefix(pb), block).toString(), pb.toString())
  assert.throws(() => cidFromPrefix(new Uint8Array([1, 0x55, 0x13, 64]), block), UnsupportedCidError)
  assert.throws(() => cidFromPrefix(new Uint8Array([1, 0x55]), block), InvalidMessageError)
  assert.throws(() => cidFromPrefix(new Uint8Array([0, 0x55, 0x12, 32]), block), UnsupportedCidError)
})

test('hostile bytes: typed errors, bounded counts', () => {
  assert.throws(() => decodeMessage(new Uint8Array([0x0a, 0x05, 0x0a])), InvalidMessageError)
  assert.throws(() => decodeMessage(new Uint8Array(MAX_MESSAGE_SIZE + 1)), MessageTooLargeError)
  // an entry without a CID, a want type that does not exist
  assert.throws(() => decodeMessage(new Uint8Array([0x0a, 0x04, 0x0a, 0x02, 0x10, 0x01])), InvalidMessageError)
  assert.throws(() => decodeMessage(new Uint8Array([0x0a, 0x07, 0x0a, 0x05, 0x0a, 0x01, 0x00, 0x20, 0x07])), InvalidMessageError)
  const many: BitswapMessage = { wantlist: { entries: Array.from({ length: 101 }, () => ({ cid: cid.bytes, priority: 1, cancel: false, wantType: 0, sendDontHave: false })), full: false }, blocks: [], presences: [], pendingBytes: 0 }
  assert.throws(() => decodeMessage(encodeMessage(many, '1.2.0'), { maxEntries: 100 }), /more than 100 wantlist entries/)
  for (let seed = 0; seed < 300; seed++) {
    try { decodeMessage(seededBytes(1 + seed * 7, seed)) } catch (err) { assert.ok(err instanceof InvalidMessageError, String(err)) }
  }
})

test('frames: whole messages from split chunks, length limits, truncation', async () => {
  const [a, b] = duplexPair()
  const framed = encodeMessageLP(sample(), '1.2.0')
  for (let i = 0; i < framed.length; i += 1000) a.send(framed.slice(i, i + 1000))
  a.send(encodeMessageLP(sample(), '1.2.0'))
  a.send(new Uint8Array([0x80, 0x80, 0x80, 0x04]))
  await a.closeWrite()
  const reader = new FrameReader(b, 8 * 1024 * 1024)
  assert.deepEqual(decodeMessage((await reader.next()) as Uint8Array), sample())
  assert.deepEqual(decodeMessage((await reader.next()) as Uint8Array), sample())
  await assert.rejects(reader.next(), UnexpectedEOFError)
  const [c, d] = duplexPair()
  c.send(new Uint8Array([0x81, 0x80, 0x80, 0x04]))
  await assert.rejects(new FrameReader(d, MAX_MESSAGE_SIZE).next(), MessageTooLargeError)
})
