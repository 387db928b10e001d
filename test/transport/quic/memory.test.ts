/**
 * QUIC stream windows grown past their initial size are reserved from the connection's memory
 * account (the muxer init's `memory`: the resource manager's scopes) and given back when the
 * stream ends; with the account refusing, windows stay at their initial size and the transfer
 * still completes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '../../../src/crypto/index.ts'
import { QuicTransport } from '../../../src/transport/quic/index.ts'
import type { QuicNativeConnection } from '../../../src/transport/quic/native-connection.ts'
import type { RawConnection } from '../../../src/interface/transport.ts'
import type { Stream } from '../../../src/interface/stream.ts'
import { testCrypto } from './fixtures/test-crypto.ts'
import { seededBytes } from '../../support/random.ts'
import { BudgetAccount } from '../../support/budget-account.ts'

for (const [name, budget] of [['granted', 64 * 1024 * 1024], ['refused', 0]] as const) {
  test(`stream window growth, reservation ${name}: reserved while it lasts, given back, the transfer completes`, async () => {
    const options = { crypto: testCrypto, streamWindow: 64 * 1024 }
    const server = new QuicTransport(options, { privateKey: await generateKeyPair('Ed25519') })
    const client = new QuicTransport(options, { privateKey: await generateKeyPair('Ed25519') })
    let accept!: (c: RawConnection) => void
    const accepted = new Promise<RawConnection>(resolve => { accept = resolve })
    const listener = server.createListener({ onConnection: c => { accept(c) } })
    await listener.listen(multiaddr('/ip4/127.0.0.1/udp/0/quic-v1'))
    const account = new BudgetAccount(budget)
    const received = new Promise<number>(resolve => {
      void accepted.then(inbound => {
        (inbound as QuicNativeConnection).native.streamMuxer.createStreamMuxer(inbound, {
          direction: 'inbound',
          memory: account,
          onIncomingStream: (s: Stream) => {
            void (async () => {
              let n = 0
              for await (const c of s) n += c.length
              await s.closeWrite()
              resolve(n)
            })()
          }
        })
      })
    })
    try {
      const raw = await client.dial(listener.getAddrs()[0])
      const muxer = (raw as QuicNativeConnection).native.streamMuxer.createStreamMuxer(raw, { direction: 'outbound', onIncomingStream: () => {} })
      const stream = await muxer.newStream()
      const payload = seededBytes(16 * 1024 * 1024, 3)
      for (let offset = 0; offset < payload.length; offset += 256 * 1024) await stream.write(payload.subarray(offset, offset + 256 * 1024))
      await stream.closeWrite()
      assert.equal(await received, payload.length)
      for await (const _ of stream) { /* the server's end of stream */ }
      await stream.closed
      if (budget === 0) {
        assert.ok(account.refusals > 0, 'growth was asked for and refused')
        assert.equal(account.peak, 0)
      } else {
        assert.ok(account.peak >= 64 * 1024, `window growth was reserved (peak ${account.peak})`)
      }
      await muxer.close()
      await raw.closed
      await (await accepted).closed
      assert.equal(account.reserved, 0, 'given back when the stream ended')
    } finally {
      await listener.close()
      await client.close()
      await server.close()
    }
  })
}
