/**
 * Loss and reordering: QUIC with its real TLS through a UDP forwarder that drops and swaps
 * datagrams; transfers must arrive byte-exact both ways (loss detection, retransmission of
 * CRYPTO and STREAM data, ACK ranges with gaps). Prints the throughput it saw.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '../../../src/crypto/index.ts'
import { QuicTransport } from '../../../src/transport/quic/index.ts'
import type { RawConnection } from '../../../src/interface/transport.ts'
import type { Stream } from '../../../src/interface/stream.ts'
import { seededBytes } from '../../support/random.ts'
import { LossyForwarder } from './fixtures/lossy-forwarder.ts'

const SIZE = 2 * 1024 * 1024

for (const [loss, congestionControl] of [[0.02, 'newreno'], [0.1, 'newreno'], [0.02, 'cubic'], [0.1, 'cubic']] as const) {
  test(`${congestionControl}: ${loss * 100} % loss and 5 % reordering: a ${SIZE / 1048576} MiB echo arrives byte-exact`, { timeout: 120_000 }, async () => {
    const server = new QuicTransport({ congestionControl }, { privateKey: await generateKeyPair('Ed25519') })
    const client = new QuicTransport({ congestionControl }, { privateKey: await generateKeyPair('Ed25519') })
    const echo = (s: Stream): void => {
      void (async () => {
        for await (const c of s) await s.write(c.slice())
        await s.closeWrite()
      })().catch(() => {})
    }
    const listener = server.createListener({
      onConnection: (c: RawConnection) => { c.native!.streamMuxer.createStreamMuxer(c, { direction: 'inbound', onIncomingStream: echo }) }
    })
    await listener.listen(multiaddr('/ip4/127.0.0.1/udp/0/quic-v1'))
    const serverPort = Number(listener.getAddrs()[0].getComponents()[1].value)
    const forwarder = new LossyForwarder(serverPort, { loss, reorder: 0.05, seed: 42 })
    const port = await forwarder.start()
    try {
      const started = performance.now()
      const raw = await client.dial(multiaddr(`/ip4/127.0.0.1/udp/${port}/quic-v1`))
      const muxer = raw.native!.streamMuxer.createStreamMuxer(raw, { direction: 'outbound', onIncomingStream: () => {} })
      const stream = await muxer.newStream()
      const payload = seededBytes(SIZE, 3)
      const chunks: Uint8Array[] = []
      const reading = (async () => { for await (const c of stream) chunks.push(c.slice()) })()
      for (let o = 0; o < SIZE; o += 65536) await stream.write(payload.subarray(o, o + 65536))
      await stream.closeWrite()
      await reading
      const ms = performance.now() - started
      assert.ok(Buffer.concat(chunks).equals(Buffer.from(payload)), 'the echo differs')
      assert.ok(forwarder.stats.dropped > 0 && forwarder.stats.reordered > 0)
      console.log(`# ${congestionControl}, ${loss * 100} % loss: ${SIZE / 1048576} MiB each way in ${ms.toFixed(0)} ms (${(2 * SIZE / 1048576 / ms * 1000).toFixed(1)} MiB/s), ${forwarder.stats.dropped} datagrams dropped, ${forwarder.stats.reordered} reordered`)
      await muxer.close()
    } finally {
      await client.close()
      await server.close()
      await forwarder.close()
    }
  })
}
