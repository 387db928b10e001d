/**
 * The RTCDataChannel adapter (src/transport/webrtc/data-channel.ts): a browser drops a
 * `message` event that finds no handler, so the adapter must listen from the moment it wraps
 * the channel and hand what came early to the stream once it is wired.
 */
import { it } from 'node:test'
import assert from 'node:assert/strict'
import { fromRTCDataChannel } from '../../../src/transport/webrtc/data-channel.ts'

/** The handler properties of an RTCDataChannel, fired by the test as a browser would. */
class ChannelStub {
  binaryType = 'blob'
  readyState: RTCDataChannelState = 'open'
  id = 0
  bufferedAmount = 0
  bufferedAmountLowThreshold = 0
  closed = false
  onopen: (() => void) | null = null
  onmessage: ((ev: { data: unknown }) => void) | null = null
  onbufferedamountlow: (() => void) | null = null
  onclose: (() => void) | null = null
  send (): void {}
  close (): void { this.closed = true }
}

function events () {
  const got = { messages: [] as number[][], closes: 0 }
  return {
    got,
    handlers: {
      onOpen () {},
      onMessage (data: Uint8Array) { got.messages.push([...data]) },
      onBufferedAmountLow () {},
      onClose () { got.closes++ }
    }
  }
}

it('messages and a close that arrive before setEvents are delivered to it, in order', () => {
  const stub = new ChannelStub()
  const channel = fromRTCDataChannel(stub as unknown as RTCDataChannel)
  assert.equal(stub.binaryType, 'arraybuffer')
  // the server's first Noise message, before the dialer has wired the stream
  stub.onmessage?.({ data: Uint8Array.of(1, 2).buffer })
  stub.onmessage?.({ data: Uint8Array.of(3).buffer })
  stub.onclose?.()
  const { got, handlers } = events()
  channel.setEvents(handlers)
  assert.deepEqual(got.messages, [[1, 2], [3]])
  assert.equal(got.closes, 1)
  stub.onmessage?.({ data: Uint8Array.of(4).buffer })
  assert.deepEqual(got.messages, [[1, 2], [3], [4]])
})

it('a remote that sends more than the early bound before the stream is wired gets its channel closed', () => {
  const stub = new ChannelStub()
  const channel = fromRTCDataChannel(stub as unknown as RTCDataChannel)
  for (let i = 0; i < 64; i++) stub.onmessage?.({ data: Uint8Array.of(i).buffer })
  assert.equal(stub.closed, false)
  stub.onmessage?.({ data: Uint8Array.of(64).buffer })
  assert.equal(stub.closed, true)
  const { got, handlers } = events()
  channel.setEvents(handlers)
  assert.equal(got.messages.length, 64)
})
