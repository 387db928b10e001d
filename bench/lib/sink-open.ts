/**
 * The two protocols the focused benchmarks (bench:metrics, bench:rm) serve: a sink that reads
 * everything, then answers one byte and closes (a transfer's end is seen by the sender), and
 * one that only closes (a stream open and nothing else).
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
