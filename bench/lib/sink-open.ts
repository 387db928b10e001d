/**
 * The two protocols the focused benchmarks (bench:metrics, bench:rm) serve: a sink that reads
 * everything, then answers one byte and closes (a transfer's end is seen by the sender), and
 * one that only closes (a stream open and nothing else); and the sender's side of the sink.
 */
import type { Libp2p } from '../../src/index.ts'
import type { Stream } from '../../src/interface/stream.ts'

export async function handleSinkAndOpen (node: Libp2p, sink: string, open: string): Promise<void> {
  await node.handle(sink, async (stream: Stream) => {
    for await (const chunk of stream) void chunk
    await stream.write(Uint8Array.of(1))
    await stream.close()
  })
  await node.handle(open, async (stream: Stream) => { await stream.close() }, { maxInboundStreams: 10_000 })
}

/**
 * Sends `bytes` bytes on a stream to the sink, `chunk` (the caller's, reused) at a time,
 * half-closes and waits for the sink's answer: when this returns, the sink has read every byte.
 * The stream stays open for the caller to close.
 */
export async function sendToSink (stream: Stream, bytes: number, chunk: Uint8Array): Promise<void> {
  const size = chunk.length
  for (let sent = 0; sent < bytes; sent += size) {
    if (!stream.send(sent + size <= bytes ? chunk : chunk.subarray(0, bytes - sent))) await stream.drain()
  }
  await stream.closeWrite()
  if ((await stream.read()) === null) throw new Error('the sink closed without its answer')
}
