/**
 * Our own WebSocket data frames (src/transport/websockets/frame-writer.node.ts), decoded here by
 * an independent reading of RFC 6455 §5.2: header bits, the three length encodings at their
 * boundaries, the client's masking (fresh key per message, every byte position including the
 * unaligned tail), the server's unmasked frames, and the cut at MAX_MESSAGE_BYTES. The ws
 * server accepting (and unmasking) these frames end to end is in websockets.test.ts.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import { FrameWriter, MAX_MESSAGE_BYTES } from '../../../src/transport/websockets/frame-writer.node.ts'
import { maskInPlace } from '../../../src/transport/websockets/mask.ts'

interface Frame { fin: boolean, opcode: number, masked: boolean, key?: Buffer, payload: Buffer }

/** A socket that records what is written. */
function recorder (): { socket: Socket, bytes: () => Buffer } {
  const writes: Buffer[] = []
  const socket = { write: (chunk: Uint8Array) => { writes.push(Buffer.from(chunk)); return true } } as unknown as Socket
  return { socket, bytes: () => Buffer.concat(writes) }
}

function decode (wire: Buffer): Frame[] {
  const frames: Frame[] = []
  let at = 0
  while (at < wire.length) {
    const fin = (wire[at] & 0x80) !== 0
    const opcode = wire[at] & 0x0f
    const masked = (wire[at + 1] & 0x80) !== 0
    let length = wire[at + 1] & 0x7f
    at += 2
    if (length === 126) { length = wire.readUInt16BE(at); at += 2 } else if (length === 127) { length = Number(wire.readBigUInt64BE(at)); at += 8 }
    let key: Buffer | undefined
    if (masked) { key = wire.subarray(at, at + 4); at += 4 }
    const payload = Buffer.from(wire.subarray(at, at + length))
    assert.equal(payload.length, length, 'truncated frame')
    if (key !== undefined) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i % 4]
    frames.push({ fin, opcode, masked, key, payload })
    at += length
  }
  return frames
}

describe('websocket frame writer', () => {
  for (const mask of [true, false]) {
    const role = mask ? 'client (masked)' : 'server (unmasked)'
    it(`${role}: one binary FIN message per flush, every length encoding, payload intact`, () => {
      for (const size of [1, 2, 3, 5, 124, 125, 126, 127, 65534, 65535, 65536, 65537, 200_001]) {
        const { socket, bytes } = recorder()
        const writer = new FrameWriter(socket, mask)
        // pieces of odd sizes, so the payload is copied at every alignment
        const data = randomBytes(size)
        for (let at = 0; at < size; at += 7777) writer.push(data.subarray(at, Math.min(size, at + 7777)))
        assert.equal(writer.pendingBytes, size)
        writer.flush()
        assert.equal(writer.pendingBytes, 0)
        const frames = decode(bytes())
        assert.equal(frames.length, 1, `size ${size}`)
        assert.deepEqual({ fin: frames[0].fin, opcode: frames[0].opcode, masked: frames[0].masked }, { fin: true, opcode: 2, masked: mask })
        assert.ok(frames[0].payload.equals(data), `size ${size}: payload differs`)
        // the shortest length encoding, as §5.2 requires
        const header = bytes()[1] & 0x7f
        assert.equal(header, size < 126 ? size : size < 65536 ? 126 : 127, `size ${size}`)
      }
    })
  }

  it('a client uses a fresh masking key for each message, across refills of its key pool', () => {
    const { socket, bytes } = recorder()
    const writer = new FrameWriter(socket, true)
    const payloads: Buffer[] = []
    for (let i = 0; i < 2500; i++) {
      const p = randomBytes(1 + (i % 40))
      payloads.push(p)
      writer.push(p)
      writer.flush()
    }
    const frames = decode(bytes())
    assert.equal(frames.length, payloads.length)
    frames.forEach((f, i) => { assert.ok(f.payload.equals(payloads[i]), `message ${i}`) })
    const keys = new Set(frames.map(f => f.key!.toString('hex')))
    // 2500 random 32-bit keys: a repeat is possible but more than a couple means no fresh keys
    assert.ok(keys.size > 2490, `only ${keys.size} distinct keys`)
  })

  it('a message never exceeds MAX_MESSAGE_BYTES: a larger send is cut, bytes and order kept', () => {
    for (const mask of [true, false]) {
      const { socket, bytes } = recorder()
      const writer = new FrameWriter(socket, mask)
      const a = randomBytes(100)
      const b = randomBytes(MAX_MESSAGE_BYTES * 2 + 17)
      writer.push(a)
      writer.push(b)
      writer.flush()
      const frames = decode(bytes())
      for (const f of frames) assert.ok(f.payload.length <= MAX_MESSAGE_BYTES)
      assert.ok(Buffer.concat(frames.map(f => f.payload)).equals(Buffer.concat([a, b])))
    }
  })

  it('writers share one slab: a connection holds no frame buffer of its own', () => {
    const buffers: ArrayBufferLike[] = []
    const socket = { write: (chunk: Uint8Array) => { buffers.push(chunk.buffer); return true } } as unknown as Socket
    const a = new FrameWriter(socket, true)
    const b = new FrameWriter(socket, true)
    a.push(randomBytes(1000))
    a.flush()
    b.push(randomBytes(1000))
    b.flush()
    assert.equal(buffers.length, 2)
    assert.equal(buffers[0], buffers[1])
  })

  it('discard drops what waits; flush with nothing waiting writes nothing', () => {
    const { socket, bytes } = recorder()
    const writer = new FrameWriter(socket, true)
    writer.flush()
    writer.push(randomBytes(10))
    writer.discard()
    writer.flush()
    assert.equal(bytes().length, 0)
  })
})

describe('websocket masking', () => {
  it('maskInPlace matches the byte-by-byte definition at every offset and length, and undoes itself', () => {
    const key = Uint8Array.from([0x12, 0x34, 0xab, 0xcd])
    const backing = randomBytes(300)
    for (let offset = 0; offset < 8; offset++) {
      for (const length of [0, 1, 2, 3, 4, 5, 7, 8, 9, 23, 24, 25, 64, 199]) {
        const original = Buffer.from(backing.subarray(offset, offset + length))
        const target = new Uint8Array(backing.buffer.slice(0), backing.byteOffset + offset, length)
        maskInPlace(target, key)
        for (let i = 0; i < length; i++) assert.equal(target[i], original[i] ^ key[i % 4], `offset ${offset} length ${length} byte ${i}`)
        maskInPlace(target, key)
        assert.ok(Buffer.from(target).equals(original))
      }
    }
  })

  it('ws in this process masks and unmasks through our hook (node:http websocketMask/websocketUnmask)', async () => {
    await import('../../../src/transport/websockets/fast-unmask.node.ts')
    const http = (await import('node:http')).default as unknown as { websocketMask?: unknown, websocketUnmask?: unknown }
    assert.equal(typeof http.websocketMask, 'function')
    assert.equal(typeof http.websocketUnmask, 'function')
    const { createRequire } = await import('node:module')
    const require = createRequire(import.meta.url)
    const { dirname, join } = await import('node:path')
    const bufferUtil = require(join(dirname(require.resolve('ws')), 'lib', 'buffer-util.js')) as { unmask: (b: Buffer, m: Buffer) => void, mask: (s: Buffer, m: Buffer, o: Buffer, off: number, len: number) => void }
    const key = Buffer.from([1, 2, 3, 4])
    const data = randomBytes(1000)
    const out = Buffer.alloc(1003)
    bufferUtil.mask(data, key, out, 3, 1000)
    for (let i = 0; i < 1000; i++) assert.equal(out[3 + i], data[i] ^ key[i % 4])
    const copy = Buffer.from(out.subarray(3))
    bufferUtil.unmask(copy, key)
    assert.ok(copy.equals(data))
  })
})
