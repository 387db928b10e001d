import { test } from 'node:test'
import assert from 'node:assert/strict'
import { duplexPair } from '../../src/util/duplex-pair.ts'
import { MessageStream, readMessage, writeMessage } from '../../src/util/message-stream.ts'
import { ProtobufReader, ProtobufWriter } from '../../src/util/protobuf.ts'
import { InvalidMessageError, MessageTooLargeError, UnexpectedEOFError } from '../../src/util/errors.ts'

interface Note { text: string, n: number }

const codec = {
  encode: (m: Note) => new ProtobufWriter().string(1, m.text).uint(2, m.n).finish(),
  decode: (b: Uint8Array): Note => {
    const r = new ProtobufReader(b)
    const out: Note = { text: '', n: 0 }
    while (!r.done) {
      const [field, wire] = r.tag()
      if (field === 1) out.text = r.string(wire, 100)
      else if (field === 2) out.n = r.uint(wire)
      else r.skip(wire)
    }
    return out
  }
}

test('several messages per stream, then a clean end', async () => {
  const [a, b] = duplexPair()
  const writer = new MessageStream(a, { ...codec, maxLength: 1024 })
  const reader = new MessageStream(b, { ...codec, maxLength: 1024 })
  for (let i = 0; i < 5; i++) await writer.write({ text: `m${i}`, n: i })
  await a.closeWrite()
  const got: Note[] = []
  for (let m = await reader.read(); m !== null; m = await reader.read()) got.push(m)
  assert.deepEqual(got.map(m => m.n), [0, 1, 2, 3, 4])
  assert.equal(got[4].text, 'm4')
})

test('readMessage leaves the bytes after the message on the stream', async () => {
  const [a, b] = duplexPair()
  await writeMessage(a, { text: 'hi', n: 7 }, codec.encode)
  await a.write(Uint8Array.of(1, 2, 3))
  assert.deepEqual(await readMessage(b, codec.decode, { maxLength: 100 }), { text: 'hi', n: 7 })
  assert.deepEqual(await b.read(), Uint8Array.of(1, 2, 3))
})

test('oversized, truncated and malformed messages give typed errors', async () => {
  const [a, b] = duplexPair()
  await writeMessage(a, { text: 'x'.repeat(90), n: 1 }, codec.encode)
  await assert.rejects(readMessage(b, codec.decode, { maxLength: 10 }), MessageTooLargeError)

  const [c, d] = duplexPair()
  await c.write(Uint8Array.of(10, 0x0a, 0x05, 0x61))
  await c.closeWrite()
  await assert.rejects(readMessage(d, codec.decode, { maxLength: 100 }), UnexpectedEOFError)

  const [e, f] = duplexPair()
  await e.write(Uint8Array.of(2, 0x0a, 0x7f))
  await assert.rejects(readMessage(f, codec.decode, { maxLength: 100 }), InvalidMessageError)
})
