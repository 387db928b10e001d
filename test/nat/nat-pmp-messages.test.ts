import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeReply, encodeExternalAddressRequest, encodeMappingRequest, OP_EXTERNAL_ADDRESS, OP_MAP_TCP } from '../../src/nat/pmp/messages.ts'

test('nat-pmp: requests are laid out as RFC 6886 sections 3.2 and 3.3 say', () => {
  assert.deepEqual([...encodeExternalAddressRequest()], [0, 0])
  assert.deepEqual([...encodeMappingRequest('tcp', 4001, 4002, 7200)], [0, 2, 0, 0, 0x0f, 0xa1, 0x0f, 0xa2, 0, 0, 0x1c, 0x20])
  assert.deepEqual([...encodeMappingRequest('udp', 1, 0, 0)], [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])
})

test('nat-pmp: replies decode; non-zero results come back with their code', () => {
  assert.deepEqual(decodeReply(Uint8Array.of(0, 128, 0, 0, 0, 0, 0x2d, 0xd9, 11, 0, 0, 1)), { op: OP_EXTERNAL_ADDRESS, resultCode: 0, epoch: 11737, externalIp: '11.0.0.1' })
  assert.deepEqual(decodeReply(Uint8Array.of(0, 130, 0, 0, 0, 0, 0, 9, 0x0f, 0xa1, 0x0f, 0xa5, 0, 0, 0, 30)), { op: OP_MAP_TCP, resultCode: 0, epoch: 9, internalPort: 4001, externalPort: 4005, lifetimeSeconds: 30 })
  assert.equal(decodeReply(Uint8Array.of(0, 128, 0, 3, 0, 0, 0, 1)).resultCode, 3)
  assert.equal(decodeReply(Uint8Array.of(2, 130, 0, 1)).resultCode, 1)
})

test('nat-pmp: truncated, oversized, request-shaped, unknown-op and wrong-version bytes are refused', () => {
  for (const bad of [Uint8Array.of(0, 128, 0), Uint8Array.of(0, 128, 0, 0, 0, 0, 0, 0, 1, 2, 3), Uint8Array.of(0, 130, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7),
    Uint8Array.of(0, 2, 0, 0), Uint8Array.of(0, 140, 0, 0), Uint8Array.of(1, 128, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4)]) {
    assert.throws(() => decodeReply(bad), { name: 'InvalidMessageError' }, String([...bad]))
  }
  assert.throws(() => decodeReply(new Uint8Array(2000)), { name: 'MessageTooLargeError' })
})
