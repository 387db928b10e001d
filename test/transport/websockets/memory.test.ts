/**
 * A WebSocket connection's read buffer beyond its free 64 KiB is reserved from the memory
 * account the switch gives it (the connection's resource scopes), in 64 KiB chunks up to the
 * read high-water mark, and released when the connection ends; a refused reservation pauses
 * the socket at what it holds (backpressure: every byte still arrives).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { WebSocketsTransport } from '../../../src/transport/websockets/index.ts'
import { FREE_READ_BUFFER, DEFAULT_READ_HIGH_WATER_MARK } from '../../../src/transport/websockets/connection.node.ts'
import type { RawConnection } from '../../../src/interface/transport.ts'
import { listen, readExactly } from '../conformance.ts'
import { BudgetAccount } from '../../support/budget-account.ts'

/** Sends until the sender sees backpressure, then lets the receiver take in what arrives. */
async function fillUntilPaused (client: RawConnection, server: RawConnection): Promise<number> {
  const chunk = new Uint8Array(16 * 1024).fill(7)
  let sent = 0
  while (client.send(chunk)) sent += chunk.length
  sent += chunk.length
  // the receiver pauses once over its limit; give the bytes in flight some turns to land
  // (on a loaded machine the first message may take more than one turn to arrive)
  let last = -1
  for (let turn = 0; turn < 200 && (server.readableLength !== last || last === 0); turn++) {
    last = server.readableLength
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  return sent
}

for (const [name, budget] of [['granted', 16 * 1024 * 1024], ['refused', 0]] as const) {
  test(`read buffer beyond the free part, reservation ${name}: bounded, every byte arrives, nothing held after the end`, async () => {
    const transport = new WebSocketsTransport()
    const { listener, addr, accepted } = await listen(transport, '/ip4/127.0.0.1/tcp/0/ws')
    const account = new BudgetAccount(budget)
    let client: RawConnection | undefined
    let server: RawConnection | undefined
    try {
      client = await transport.dial(addr)
      server = await accepted.next()
      assert.equal(typeof server.useMemory, 'function', 'the WebSocket connection takes a memory account')
      server.useMemory!(account)
      const sent = await fillUntilPaused(client, server)
      const limit = budget === 0 ? FREE_READ_BUFFER : DEFAULT_READ_HIGH_WATER_MARK
      assert.ok(server.readableLength > FREE_READ_BUFFER, `the reader fell behind (${server.readableLength} bytes)`)
      // what one socket read brought in is still delivered after the pause (up to 64 KiB)
      assert.ok(server.readableLength <= limit + 64 * 1024, `${server.readableLength} bytes buffered, limit ${limit}`)
      if (budget === 0) {
        assert.ok(account.refusals > 0)
        assert.equal(account.reserved, 0)
      } else {
        assert.ok(account.reserved > 0 && account.reserved <= DEFAULT_READ_HIGH_WATER_MARK - FREE_READ_BUFFER, `reserved ${account.reserved}`)
        assert.equal(account.reserved % (64 * 1024), 0, 'in 64 KiB chunks')
      }
      const reading = readExactly(server, sent)
      await client.drain()
      assert.equal((await reading).length, sent)
      await Promise.all([client.close(), server.closed])
      assert.equal(account.reserved, 0, 'released when the connection ended')
    } finally {
      client?.abort(new Error('test over'))
      server?.abort(new Error('test over'))
      await listener.close()
    }
  })
}
