/**
 * Circuit relay v2 wire messages and vouchers: exact bytes for hand-assembled spec messages,
 * round trips, and hostile input (truncated, oversized, out-of-range, random) that must end in
 * a typed error. Vouchers: forged, misdirected, expired and wrongly typed ones are refused.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { generateKeyPair } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { sealEnvelope } from '../../src/peer/envelope.ts'
import {
  decodeHopMessage, decodeStopMessage, encodeHopMessage, encodeStopMessage, HopType, MAX_RELAY_MESSAGE_SIZE, RelayStatus, relayStatusName, StopType
} from '../../src/relay/messages.ts'
import { decodeVoucher, encodeVoucher, sealVoucher, verifyVoucher, VOUCHER_DOMAIN, VOUCHER_PAYLOAD_TYPE } from '../../src/relay/voucher.ts'
import { ProtobufWriter } from '../../src/util/protobuf.ts'

const TYPED = ['InvalidMessageError', 'MessageTooLargeError']

test('a RESERVE is the two bytes 08 00 and a STATUS OK carries reservation and limit in tag order', () => {
  assert.deepEqual([...encodeHopMessage({ type: HopType.RESERVE })], [0x08, 0x00])
  const bytes = encodeHopMessage({
    type: HopType.STATUS,
    status: RelayStatus.OK,
    reservation: { expire: 1700000000n, addrs: [Uint8Array.of(4, 127, 0, 0, 1)], voucher: Uint8Array.of(9, 9) },
    limit: { duration: 120, data: 131072n }
  })
  // type=STATUS(2); reservation{expire, addrs, voucher}; limit{duration=120, data=1<<17}; status=100
  const reservation = new ProtobufWriter().uint64(1, 1700000000n).bytes(2, Uint8Array.of(4, 127, 0, 0, 1)).bytes(3, Uint8Array.of(9, 9)).finish()
  const expected = [0x08, 0x02, 0x1a, reservation.length, ...reservation, 0x22, 0x06, 0x08, 0x78, 0x10, 0x80, 0x80, 0x08, 0x28, 0x64]
  assert.deepEqual([...bytes], expected)
  const decoded = decodeHopMessage(bytes)
  assert.equal(decoded.type, HopType.STATUS)
  assert.equal(decoded.status, 100)
  assert.equal(decoded.reservation?.expire, 1700000000n)
  assert.deepEqual(decoded.reservation?.addrs.map(a => [...a]), [[4, 127, 0, 0, 1]])
  assert.deepEqual([...decoded.reservation!.voucher!], [9, 9])
  assert.deepEqual(decoded.limit, { duration: 120, data: 131072n })
})

test('stop messages round-trip, and unknown fields and types are kept for the handler to refuse', () => {
  const id = Uint8Array.of(0, 4, 1, 2, 3, 4)
  const msg = decodeStopMessage(encodeStopMessage({ type: StopType.CONNECT, peer: { id, addrs: [Uint8Array.of(1)] }, limit: { data: 5n } }))
  assert.equal(msg.type, StopType.CONNECT)
  assert.deepEqual([...msg.peer!.id], [...id])
  assert.deepEqual(msg.limit, { data: 5n })
  assert.equal(msg.status, undefined)
  // type 7 and an unknown field 9: decoded, not thrown
  const odd = decodeHopMessage(Uint8Array.of(0x08, 0x07, 0x48, 0x01))
  assert.equal(odd.type, 7)
  assert.equal(relayStatusName(204), 'NO_RESERVATION')
  assert.equal(relayStatusName(7), 'UNKNOWN(7)')
})

test('hostile relay messages end in typed errors', () => {
  const cases: Array<[string, Uint8Array]> = [
    ['no type', Uint8Array.of(0x28, 0x64)],
    ['truncated', Uint8Array.of(0x08)],
    ['peer without id', Uint8Array.of(0x08, 0x01, 0x12, 0x00)],
    ['length past the end', Uint8Array.of(0x08, 0x01, 0x12, 0x7f, 0x0a)],
    ['duration over uint32', new ProtobufWriter().uint(1, 2).bytes(4, new ProtobufWriter().uint64(1, 1n << 32n).finish()).finish()],
    ['status over uint32', new ProtobufWriter().uint(1, 2).uint64(5, 1n << 40n).finish()],
    ['type as bytes', Uint8Array.of(0x0a, 0x00)],
    ['too many addresses', (() => {
      const peer = new ProtobufWriter().bytes(1, Uint8Array.of(0, 1, 7))
      for (let i = 0; i < 65; i++) peer.bytes(2, Uint8Array.of(4))
      return new ProtobufWriter().uint(1, 1).bytes(2, peer.finish()).finish()
    })()],
    ['peer id too long', new ProtobufWriter().uint(1, 1).bytes(2, new ProtobufWriter().bytes(1, new Uint8Array(129)).finish()).finish()],
    ['oversized', new Uint8Array(MAX_RELAY_MESSAGE_SIZE + 1)]
  ]
  for (const [what, bytes] of cases) {
    assert.throws(() => decodeHopMessage(bytes), (err: Error) => TYPED.includes(err.name), what)
  }
  assert.throws(() => decodeStopMessage(new Uint8Array(MAX_RELAY_MESSAGE_SIZE + 1)), { name: 'MessageTooLargeError' })
  assert.throws(() => encodeHopMessage({ type: 2, reservation: { addrs: [new Uint8Array(MAX_RELAY_MESSAGE_SIZE)] } }), { name: 'MessageTooLargeError' })
})

test('random bytes never crash the relay decoders with anything but typed errors', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
    for (const decode of [decodeHopMessage, decodeStopMessage, decodeVoucher]) {
      try { decode(bytes) } catch (err) { assert.ok(TYPED.includes((err as Error).name), (err as Error).name) }
    }
  }), { numRuns: 2000 })
})

test('a voucher from the relay for us verifies; forged, misdirected, expired and mistyped ones do not', async () => {
  const relayKey = await generateKeyPair('Ed25519')
  const otherKey = await generateKeyPair('Ed25519')
  const relay = peerIdFromPrivateKey(relayKey)
  const us = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const other = peerIdFromPrivateKey(otherKey)
  const nowSeconds = 1_800_000_000
  const voucher = { relay: relay.bytes, peer: us.bytes, expiration: BigInt(nowSeconds + 3600) }
  assert.deepEqual(decodeVoucher(encodeVoucher(voucher)), voucher)
  const good = await sealVoucher(relayKey, voucher)
  assert.equal((await verifyVoucher(good, { relay, peer: us, nowSeconds })).expiration, voucher.expiration)

  const reject = async (bytes: Uint8Array, why: RegExp): Promise<void> => {
    await assert.rejects(verifyVoucher(bytes, { relay, peer: us, nowSeconds }), (err: Error & { code: string }) => {
      assert.equal(err.name, 'InvalidVoucherError')
      assert.equal(err.code, 'ERR_INVALID_VOUCHER')
      assert.match(err.message, why)
      return true
    })
  }
  await reject(await sealVoucher(otherKey, voucher), /not signed by the relay/)
  await reject(await sealVoucher(relayKey, { ...voucher, peer: other.bytes }), /another peer/)
  await reject(await sealVoucher(relayKey, { ...voucher, relay: other.bytes }), /another relay/)
  await reject(await sealVoucher(relayKey, { ...voucher, expiration: BigInt(nowSeconds) }), /expired/)
  await reject(await sealEnvelope(relayKey, VOUCHER_DOMAIN, Uint8Array.of(3, 1), encodeVoucher(voucher)), /payload type/)
  await reject(await sealEnvelope(relayKey, 'libp2p-peer-record', VOUCHER_PAYLOAD_TYPE, encodeVoucher(voucher)), /rejected/)
  const tampered = good.slice()
  tampered[tampered.length - 1] ^= 1
  await reject(tampered, /rejected/)
  await reject(await sealEnvelope(relayKey, VOUCHER_DOMAIN, VOUCHER_PAYLOAD_TYPE, Uint8Array.of(0x0a, 0x00)), /malformed/)
})
