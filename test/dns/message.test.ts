import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeDnsMessage, encodeDnsMessage, encodeName, FLAG_RESPONSE, RecordType } from '../../src/dns/message.ts'
import { InvalidDnsMessageError } from '../../src/dns/errors.ts'

test('a message with every record type we use survives encode and decode', () => {
  const bytes = encodeDnsMessage({
    id: 7,
    flags: FLAG_RESPONSE,
    questions: [{ name: '_p2p._udp.local', type: RecordType.PTR, unicastResponse: true }],
    answers: [
      { name: '_p2p._udp.local', type: RecordType.PTR, ttl: 120, target: 'abc._p2p._udp.local' },
      { name: 'abc._p2p._udp.local', type: RecordType.TXT, ttl: 120, cacheFlush: true, txt: ['dnsaddr=/ip4/10.0.0.1/tcp/1', 'x'] }
    ],
    additionals: [
      { name: 'h.local', type: RecordType.A, ttl: 1, ip: '10.0.0.1' },
      { name: 'h.local', type: RecordType.AAAA, ttl: 1, ip: 'fe80::1:0:0:2' },
      { name: 'abc._p2p._udp.local', type: RecordType.SRV, ttl: 1, port: 4001, target: 'h.local' }
    ]
  })
  const m = decodeDnsMessage(bytes)
  assert.equal(m.id, 7)
  assert.equal(m.flags, FLAG_RESPONSE)
  assert.deepEqual(m.questions, [{ name: '_p2p._udp.local', type: RecordType.PTR, unicastResponse: true }])
  assert.equal(m.answers[0].target, 'abc._p2p._udp.local')
  assert.deepEqual(m.answers[1].txt, ['dnsaddr=/ip4/10.0.0.1/tcp/1', 'x'])
  assert.equal(m.answers[1].cacheFlush, true)
  assert.equal(m.additionals[0].ip, '10.0.0.1')
  assert.equal(m.additionals[1].ip, 'fe80::1:0:0:2')
  assert.equal(m.additionals[2].port, 4001)
  assert.equal(m.additionals[2].target, 'h.local')
})

/** A header with the given counts, then `body`. */
function message (counts: [number, number, number, number], body: number[]): Uint8Array {
  return new Uint8Array([0, 1, 0x80, 0, 0, counts[0], 0, counts[1], 0, counts[2], 0, counts[3], ...body])
}

test('compressed names are followed backwards only', () => {
  // question "a.b" at 12, then an answer whose name points to it (0xc00c)
  const ok = message([1, 1, 0, 0], [1, 97, 1, 98, 0, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 1, 2, 3, 4])
  assert.equal(decodeDnsMessage(ok).answers[0].name, 'a.b')
  assert.equal(decodeDnsMessage(ok).answers[0].ip, '1.2.3.4')
  // a pointer to itself: the classic decoder loop
  assert.throws(() => decodeDnsMessage(message([1, 0, 0, 0], [0xc0, 12, 0, 1, 0, 1])), (e: Error) => e instanceof InvalidDnsMessageError && /backwards/.test(e.message))
  // a forward pointer
  assert.throws(() => decodeDnsMessage(message([1, 0, 0, 0], [0xc0, 14, 0, 0, 1, 0, 1])), InvalidDnsMessageError)
})

test('limits: size, record count, name length, label length, truncation, trailing bytes', () => {
  assert.throws(() => decodeDnsMessage(new Uint8Array(5)), /shorter than its header/)
  assert.throws(() => decodeDnsMessage(new Uint8Array(600), { maxMessageBytes: 512 }), /exceeds the limit of 512/)
  assert.throws(() => decodeDnsMessage(message([0, 255, 255, 0], [])), /more than the limit of 256/)
  const longName: number[] = []
  for (let i = 0; i < 5; i++) longName.push(63, ...new Array(63).fill(97))
  assert.throws(() => decodeDnsMessage(message([1, 0, 0, 0], [...longName, 0, 0, 1, 0, 1])), /longer than 255/)
  assert.throws(() => decodeDnsMessage(message([1, 0, 0, 0], [0x41])), /label type 0x40/)
  assert.throws(() => decodeDnsMessage(message([1, 0, 0, 0], [1, 97, 0, 0])), /truncated/)
  assert.throws(() => decodeDnsMessage(message([0, 0, 0, 0], [9])), /after the last/)
  // a TXT string that claims more bytes than its record has
  assert.throws(() => decodeDnsMessage(message([0, 1, 0, 0], [0, 0, 16, 0, 1, 0, 0, 0, 1, 0, 2, 5, 97])), /past its record/)
  assert.throws(() => encodeName('a'.repeat(64) + '.b'), InvalidDnsMessageError)
  assert.throws(() => encodeDnsMessage({ answers: [{ name: 'x', type: RecordType.A, ttl: 1, ip: '::1' }] }), /not an IPv4/)
})

test('labels and TXT strings that are not UTF-8 decode (as U+FFFD), never a TypeError', () => {
  // found by the fuzzer: a name label 0x80 ...
  const m = decodeDnsMessage(message([1, 1, 0, 0], [1, 0x80, 0, 0, 1, 0, 1, 1, 0xff, 0, 0, 16, 0, 1, 0, 0, 0, 1, 0, 2, 1, 0xfe]))
  assert.equal(m.questions[0].name, '\uFFFD')
  assert.deepEqual(m.answers[0].txt, ['\uFFFD'])
})
