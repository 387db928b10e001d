import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair, generateKeyPairFromSeed, randomBytes } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { decodeEnvelope, encodeEnvelope, sealEnvelope } from '../../src/peer/envelope.ts'
import {
  LEGACY_ROUTING_STATE_DOMAIN, LEGACY_ROUTING_STATE_TYPE, LegacyPeerRecordError,
  PEER_RECORD_CODEC, PEER_RECORD_DOMAIN, consumeSignedPeerRecord, createPeerRecord, createSignedPeerRecord,
  decodePeerRecord, encodePeerRecord, nextPeerRecordSeq, peerRecordToEnvelopeRecord
} from '../../src/peer/peer-record.ts'
import { seal } from '../../src/peer/envelope.ts'
import { InvalidKeyError, InvalidMessageError, InvalidPeerIdError, InvalidSignatureError, MessageTooLargeError, UnexpectedPeerError } from '../../src/util/errors.ts'

const addrs = [multiaddr('/ip4/127.0.0.1/tcp/4001'), multiaddr('/ip6/::1/udp/4001/quic-v1'), multiaddr('/dns4/example.com/tcp/443/wss')]

describe('peer records', () => {
  it('encodes the RFC 0003 layout and round-trips', () => {
    const peerId = peerIdFromPrivateKey(generateKeyPairFromSeed('Ed25519', new Uint8Array(32)))
    const record = createPeerRecord({ peerId, multiaddrs: addrs, seq: 300n })
    const bytes = encodePeerRecord(record)
    assert.deepEqual([...bytes.subarray(0, 2)], [0x0a, 38])
    assert.deepEqual([...bytes.subarray(40, 43)], [0x10, 0xac, 0x02])
    assert.equal(bytes[43], 0x1a)
    const decoded = decodePeerRecord(bytes)
    assert.ok(decoded.peerId.equals(peerId))
    assert.equal(decoded.seq, 300n)
    assert.deepEqual(decoded.multiaddrs.map(a => a.toString()), addrs.map(a => a.toString()))
  })

  it('hands out strictly increasing, time-based sequence numbers', () => {
    const before = BigInt(Date.now())
    let last = nextPeerRecordSeq()
    assert.ok(last >= before)
    for (let i = 0; i < 1000; i++) {
      const next = nextPeerRecordSeq()
      assert.ok(next > last)
      last = next
    }
    assert.ok(createPeerRecord({ peerId: peerIdFromPrivateKey(generateKeyPairFromSeed('Ed25519', new Uint8Array(32))), multiaddrs: [] }).seq > last)
  })

  it('signs and consumes records for every key type', async () => {
    for (const type of ['Ed25519', 'secp256k1', 'ECDSA', 'RSA'] as const) {
      const key = await generateKeyPair(type)
      const envelope = await createSignedPeerRecord(key, addrs)
      const consumed = await consumeSignedPeerRecord(envelope, { expectedPeer: peerIdFromPrivateKey(key) })
      assert.ok(consumed.peerId.equals(peerIdFromPrivateKey(key)))
      assert.deepEqual(consumed.multiaddrs.map(a => a.toString()), addrs.map(a => a.toString()))
      assert.ok(consumed.seq > 0n)
      assert.ok(consumed.envelope.publicKey.equals(key.publicKey))
    }
  })

  it('rejects a record signed by a key other than its peer id', async () => {
    const victim = peerIdFromPrivateKey(await generateKeyPair())
    const attacker = await generateKeyPair()
    const record = createPeerRecord({ peerId: victim, multiaddrs: addrs })
    const envelope = await seal(attacker, peerRecordToEnvelopeRecord(record))
    await assert.rejects(consumeSignedPeerRecord(envelope), UnexpectedPeerError)
  })

  it('rejects a record for another peer than expected', async () => {
    const key = await generateKeyPair()
    const envelope = await createSignedPeerRecord(key, addrs)
    await assert.rejects(consumeSignedPeerRecord(envelope, { expectedPeer: peerIdFromPrivateKey(await generateKeyPair()) }), UnexpectedPeerError)
  })

  it('rejects other domains, other payload types and forged signatures', async () => {
    const key = await generateKeyPair()
    const payload = encodePeerRecord(createPeerRecord({ peerId: peerIdFromPrivateKey(key), multiaddrs: addrs }))
    await assert.rejects(consumeSignedPeerRecord(await sealEnvelope(key, 'libp2p-relay-rsvp', PEER_RECORD_CODEC, payload)), InvalidSignatureError)
    // the varint form of 0x0301 is not the payload type go and js use
    await assert.rejects(consumeSignedPeerRecord(await sealEnvelope(key, PEER_RECORD_DOMAIN, Uint8Array.of(0x81, 0x06), payload)), InvalidMessageError)
    const good = decodeEnvelope(await createSignedPeerRecord(key, addrs))
    const forged = encodeEnvelope({ ...good, signature: randomBytes(64) })
    await assert.rejects(consumeSignedPeerRecord(forged), InvalidSignatureError)
  })

  it('refuses rust-libp2p\'s legacy routing-state record with an error naming its domain', async () => {
    const key = await generateKeyPair()
    const payload = encodePeerRecord(createPeerRecord({ peerId: peerIdFromPrivateKey(key), multiaddrs: addrs }))
    const legacy = await sealEnvelope(key, LEGACY_ROUTING_STATE_DOMAIN, LEGACY_ROUTING_STATE_TYPE, payload)
    await assert.rejects(consumeSignedPeerRecord(legacy), (err: Error & { code?: string }) => {
      assert.ok(err instanceof LegacyPeerRecordError)
      assert.equal(err.name, 'LegacyPeerRecordError')
      assert.equal(err.code, 'ERR_LEGACY_PEER_RECORD')
      assert.match(err.message, /"libp2p-routing-state"/)
      return true
    })
    // the legacy payload type with a signature for any other domain is only a bad signature
    await assert.rejects(consumeSignedPeerRecord(await sealEnvelope(key, PEER_RECORD_DOMAIN, LEGACY_ROUTING_STATE_TYPE, payload)), InvalidSignatureError)
  })

  it('drops addresses it cannot parse but keeps the rest', () => {
    const peerId = peerIdFromPrivateKey(generateKeyPairFromSeed('Ed25519', new Uint8Array(32)))
    const good = encodePeerRecord(createPeerRecord({ peerId, multiaddrs: addrs.slice(0, 1), seq: 1n }))
    // AddressInfo{multiaddr = <code 0x7fff, unknown>}
    const unknown = Uint8Array.of(0x1a, 0x05, 0x0a, 0x03, 0xff, 0xff, 0x01)
    const decoded = decodePeerRecord(Uint8Array.of(...good, ...unknown))
    assert.equal(decoded.multiaddrs.length, 1)
  })

  it('bounds hostile records and never throws untyped errors', async () => {
    const peerId = peerIdFromPrivateKey(generateKeyPairFromSeed('Ed25519', new Uint8Array(32)))
    const many = new Array(1025).fill(addrs[0])
    assert.throws(() => decodePeerRecord(encodePeerRecord(createPeerRecord({ peerId, multiaddrs: many, seq: 1n }))), InvalidMessageError)
    assert.throws(() => decodePeerRecord(new Uint8Array(0)), InvalidMessageError)
    assert.throws(() => decodePeerRecord(Uint8Array.of(0x0a, 0x02, 0x00, 0x00)), InvalidPeerIdError)
    const key = await generateKeyPair()
    const bytes = await createSignedPeerRecord(key, addrs)
    const inputs: Uint8Array[] = []
    for (let i = 0; i < bytes.length; i++) inputs.push(bytes.subarray(0, i))
    for (let i = 0; i < 300; i++) {
      const mutated = bytes.slice()
      mutated[(i * 7919) % mutated.length] ^= 1 + (i % 255)
      inputs.push(mutated)
      inputs.push(randomBytes(i))
    }
    for (const input of inputs) {
      try {
        await consumeSignedPeerRecord(input)
        assert.fail('a mutated record was accepted')
      } catch (err) {
        assert.ok([InvalidMessageError, InvalidSignatureError, InvalidKeyError, InvalidPeerIdError, UnexpectedPeerError, MessageTooLargeError].some(c => err instanceof c), String(err))
      }
    }
    // random payloads inside otherwise valid protobuf framing
    for (let i = 0; i < 500; i++) {
      try { decodePeerRecord(randomBytes(i % 100)) } catch (err) {
        assert.ok(err instanceof InvalidMessageError || err instanceof InvalidPeerIdError, String(err))
      }
    }
  })
})

describe('peer records: js-libp2p interop', () => {
  it('produces the same envelope bytes as @libp2p/peer-record and reads its records', async (t) => {
    let js: typeof import('@libp2p/peer-record')
    let jsPeerId: typeof import('@libp2p/peer-id')
    let jsCrypto: typeof import('@libp2p/crypto/keys')
    try {
      js = await import('@libp2p/peer-record')
      jsPeerId = await import('@libp2p/peer-id')
      jsCrypto = await import('@libp2p/crypto/keys')
    } catch {
      t.skip('@libp2p/peer-record is not installed')
      return
    }
    const key = await generateKeyPair('Ed25519')
    const theirKey = jsCrypto.privateKeyFromProtobuf(key.toProtobuf())
    const seq = 1_700_000_000_123n
    const theirRecord = new js.PeerRecord({ peerId: jsPeerId.peerIdFromPrivateKey(theirKey), multiaddrs: addrs, seqNumber: seq })
    const theirEnvelope = await js.RecordEnvelope.seal(theirRecord, theirKey)
    const ours = await createSignedPeerRecord(key, addrs, { seq })
    // Ed25519 signatures are deterministic, so the whole envelope must match byte for byte.
    assert.deepEqual(ours, theirEnvelope.marshal())
    const consumed = await consumeSignedPeerRecord(theirEnvelope.marshal())
    assert.equal(consumed.seq, seq)
    const opened = await js.RecordEnvelope.openAndCertify(ours, js.PeerRecord.DOMAIN)
    const record = js.PeerRecord.createFromProtobuf(opened.payload)
    assert.equal(record.seqNumber, seq)
    assert.equal(record.peerId.toString(), peerIdFromPrivateKey(key).toString())
    assert.deepEqual(record.multiaddrs.map(a => a.toString()), addrs.map(a => a.toString()))
  })
})
