/**
 * Muxer memory reservations on real sockets: a yamux receive window grown past its initial
 * 256 KiB reserves the growth from the connection's scopes (system and peer), in chunks, and
 * gives it back when the stream ends; with no memory to spare the window stays at 256 KiB and
 * the transfer still completes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p } from '../../../src/index.ts'
import type { Stream } from '../../../src/interface/stream.ts'
import type { ResourceManagerOptions } from '../../../src/switch/resource-manager/index.ts'
import { tcp } from '../../../src/transport/tcp/index.ts'
import { noise } from '../../../src/security/noise/index.ts'
import { yamux } from '../../../src/muxer/yamux/index.ts'
import type { Libp2pNode } from '../../../src/node/libp2p.ts'
import { waitFor } from '../doubles.ts'

const MiB = 1024 * 1024

async function transfer (resourceManager: ResourceManagerOptions): Promise<{ window: number, peerMemory: number, systemMemory: number, after: number }> {
  const receiver = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, services: {}, resourceManager }) as unknown as Libp2pNode
  const sender = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], services: {} })
  try {
    const rm = receiver.resourceManager!
    let seen: { window: number, peerMemory: number, systemMemory: number } | undefined
    let received = 0
    let finish!: () => void
    const done = new Promise<void>(resolve => { finish = resolve })
    await receiver.handle('/sink/1.0.0', async (stream: Stream) => {
      for await (const chunk of stream) received += chunk.length
      // the stream is still open (our side): what did its window hold?
      seen = {
        window: (stream as unknown as { recvWindow: number }).recvWindow,
        peerMemory: rm.peerScope(sender.peerId)?.usage.memory ?? 0,
        systemMemory: rm.system.usage.memory
      }
      await stream.close()
      finish()
    })
    const connection = await sender.dial(receiver.getMultiaddrs()[0])
    const stream = await connection.newStream('/sink/1.0.0')
    const chunk = new Uint8Array(64 * 1024)
    for (let sent = 0; sent < 48 * MiB; sent += chunk.length) await stream.write(chunk)
    await stream.closeWrite()
    await done
    assert.equal(received, 48 * MiB)
    await waitFor(() => rm.system.usage.memory === 0, 5000, 'the window memory released with the stream')
    return { ...seen!, after: rm.system.usage.memory }
  } finally {
    await Promise.all([sender.stop(), receiver.stop()])
  }
}

test('a yamux window grown past 256 KiB reserves the growth from the peer and system scopes and releases it with the stream', async () => {
  const r = await transfer({})
  assert.ok(r.window > 256 * 1024, `the window grew to ${r.window}`)
  assert.equal(r.peerMemory, r.window - 256 * 1024, 'the peer scope holds exactly the growth')
  assert.equal(r.systemMemory, r.peerMemory)
  assert.equal(r.after, 0)
})

test('with no memory to spare the window stays at 256 KiB and the transfer still completes', async () => {
  const refusals: string[] = []
  const r = await transfer({ limits: { peer: { memory: 0 } }, onRefusal: (err) => { refusals.push(`${err.scope.split(':')[0]} ${err.limit}`) } })
  assert.equal(r.window, 256 * 1024)
  assert.equal(r.peerMemory, 0)
  assert.ok(refusals.length > 0 && refusals.every(x => x === 'peer memory'), refusals.join(', '))
})
