/** AutoNAT v1 and v2 codecs: exact bytes, proto3/proto2 zero values, and hostile input. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  decodeDialBack, decodeDialBackResponse, decodeV2Message, DialStatus, encodeDialBack, encodeDialBackResponse,
  encodeV2Message, MAX_MESSAGE_SIZE, MAX_REQUEST_ADDRS, ResponseStatus
} from '../../../src/protocols/autonat/v2-messages.ts'
import { decodeV1Message, encodeV1Message, MessageType, V1Status } from '../../../src/protocols/autonat/v1-messages.ts'
import { ProtobufWriter } from '../../../src/util/protobuf.ts'
import { InvalidMessageError } from '../../../src/util/errors.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

describe('AutoNAT v2 messages', () => {
  it('encodes the oneof and fixed64 nonce byte for byte', () => {
    const addr = new Uint8Array([0x04, 127, 0, 0, 1, 0x06, 0x0f, 0xa1])
    const bytes = encodeV2Message({ type: 'dialRequest', dialRequest: { addrs: [addr], nonce: 0x0102030405060708n } })
    // Message.dialRequest (1, LD) { addrs (1, LD) 8 bytes, nonce (2, fixed64) little-endian }
    assert.equal(hex(bytes), '0a13' + '0a08' + hex(addr) + '11' + '0807060504030201')
    const decoded = decodeV2Message(bytes)
    assert.equal(decoded.type, 'dialRequest')
    assert.equal(decoded.type === 'dialRequest' && decoded.dialRequest.nonce, 0x0102030405060708n)
    assert.equal(hex(encodeDialBack(1n)), '090100000000000000')
    assert.deepEqual(decodeDialBack(encodeDialBack(0xffffffffffffffffn)), { nonce: 0xffffffffffffffffn })
  })

  it('reads proto3 zero values as the spec means them: no status is E_INTERNAL_ERROR, no dialStatus is UNUSED, an empty DialBackResponse is OK', () => {
    // Message{dialResponse: {}}: every field at its zero value, so nothing is written
    const empty = decodeV2Message(new Uint8Array([0x12, 0x00]))
    assert.deepEqual(empty, { type: 'dialResponse', dialResponse: { status: ResponseStatus.E_INTERNAL_ERROR, addrIdx: 0, dialStatus: DialStatus.UNUSED } })
    assert.deepEqual(decodeDialBackResponse(new Uint8Array(0)), { status: 0 })
    assert.deepEqual(decodeDialBack(new Uint8Array(0)), { nonce: 0n })
    // and we write our zeros explicitly, so a reader never has to guess
    const written = encodeV2Message({ type: 'dialResponse', dialResponse: { status: ResponseStatus.E_INTERNAL_ERROR, addrIdx: 0, dialStatus: DialStatus.UNUSED } })
    assert.equal(hex(written), '1206' + '0800' + '1000' + '1800')
    assert.equal(hex(encodeDialBackResponse()), '0800')
    const ddr = decodeV2Message(encodeV2Message({ type: 'dialDataRequest', dialDataRequest: { addrIdx: 2, numBytes: 65536 } }))
    assert.deepEqual(ddr, { type: 'dialDataRequest', dialDataRequest: { addrIdx: 2, numBytes: 65536 } })
  })

  it('hostile input: a message with no oneof, too many addresses, an oversized frame, truncation and huge numBytes', () => {
    assert.throws(() => decodeV2Message(new Uint8Array(0)), InvalidMessageError)
    const tooMany = new ProtobufWriter()
    for (let i = 0; i <= MAX_REQUEST_ADDRS; i++) tooMany.bytes(1, new Uint8Array([4, 1, 2, 3, 4]))
    assert.throws(() => decodeV2Message(new ProtobufWriter().bytes(1, tooMany.finish()).finish()), InvalidMessageError)
    assert.throws(() => decodeV2Message(new Uint8Array(MAX_MESSAGE_SIZE + 1)), InvalidMessageError)
    assert.throws(() => decodeV2Message(new Uint8Array([0x0a, 0x05, 0x0a])), InvalidMessageError)
    const huge = new ProtobufWriter().bytes(3, new ProtobufWriter().uint64(2, 0xffffffffffffffffn).finish()).finish()
    const decoded = decodeV2Message(huge)
    assert.ok(decoded.type === 'dialDataRequest' && decoded.dialDataRequest.numBytes > 1e9)
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      for (const decode of [decodeV2Message, decodeDialBack, decodeDialBackResponse, decodeV1Message]) {
        try {
          decode(bytes)
        } catch (err) {
          if (!(err instanceof InvalidMessageError)) throw err
        }
      }
    }), { numRuns: 3000 })
  })
})

describe('AutoNAT v1 messages', () => {
  it('writes proto2 zeros explicitly (DIAL = 0, OK = 0) and tells absent from zero', () => {
    const dial = encodeV1Message({ type: MessageType.DIAL, dial: { peerId: new Uint8Array([1, 2]), addrs: [new Uint8Array([4, 1, 1, 1, 1])] } })
    assert.equal(hex(dial), '0800' + '120d' + '0a0b' + '0a020102' + '1205' + '0401010101')
    const ok = decodeV1Message(encodeV1Message({ type: MessageType.DIAL_RESPONSE, dialResponse: { status: V1Status.OK } }))
    assert.deepEqual(ok, { type: 1, dialResponse: { status: 0 } })
    const noStatus = decodeV1Message(new Uint8Array([0x08, 0x01, 0x1a, 0x00]))
    assert.equal(noStatus.dialResponse?.status, undefined)
  })

  it('bounds addresses and frame size', () => {
    const peer = new ProtobufWriter()
    for (let i = 0; i < 33; i++) peer.bytes(2, new Uint8Array([4, 1, 2, 3, 4]))
    const message = new ProtobufWriter().uint(1, 0).bytes(2, new ProtobufWriter().bytes(1, peer.finish()).finish()).finish()
    assert.throws(() => decodeV1Message(message), InvalidMessageError)
    assert.throws(() => decodeV1Message(new Uint8Array(4097)), InvalidMessageError)
  })
})
