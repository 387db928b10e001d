/**
 * The transport conformance suite: every Transport producing raw byte-stream connections runs
 * it (TCP now, WebSockets and others later). Call `transportConformance({...})` from a
 * `*.test.ts` file; it registers node:test tests under one `describe`.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Listener, RawConnection, Transport } from '../../src/interface/transport.ts'

export interface TransportConformanceOptions {
  name: string
  /** A fresh transport; `maxConnections` limits inbound connections per listener. */
  createTransport(options?: { maxConnections?: number }): Transport
  /** An IPv4 loopback listen address with port 0, e.g. `/ip4/127.0.0.1/tcp/0`. */
  listenAddr: string
  /** The IPv6 loopback variant; the test is skipped when the machine has no IPv6 loopback. */
  listenAddrIPv6?: string
  /** The IPv4 wildcard variant (e.g. `/ip4/0.0.0.0/tcp/0`), whose getAddrs() must be concrete. */
  listenAddrWildcard?: string
  /** Error code expected when dialing a port nobody listens on (default ERR_CONNECTION_FAILED). */
  connectionFailedCode?: string
  /**
   * Whether `closeWrite()` is a true half-close (default true). WebSockets have none: closing
   * one direction ends the whole connection, so the suite checks that instead and never lets
   * a side close before it has read everything it expects.
   */
  halfClose?: boolean
}

/** Bound for any single wait in these tests, so a broken transport fails instead of hanging. */
const WAIT_MS = 10_000

/** Accepted connections, consumable one by one in arrival order. */
export class AcceptQueue {
  readonly connections: RawConnection[] = []
  #taken = 0
  #waiters: Array<() => void> = []

  push (conn: RawConnection): void {
    this.connections.push(conn)
    const waiters = this.#waiters
    this.#waiters = []
    for (const w of waiters) w()
  }

  async next (): Promise<RawConnection> {
    const signal = AbortSignal.timeout(WAIT_MS)
    while (this.#taken >= this.connections.length) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => { reject(new Error('no inbound connection arrived in time')) }
        signal.addEventListener('abort', onAbort, { once: true })
        this.#waiters.push(() => { signal.removeEventListener('abort', onAbort); resolve() })
      })
    }
    return this.connections[this.#taken++]
  }
}

export async function listen (transport: Transport, addr: string): Promise<{ listener: Listener, addr: Multiaddr, accepted: AcceptQueue }> {
  const accepted = new AcceptQueue()
  const listener = transport.createListener({ onConnection: (conn) => { accepted.push(conn) } })
  await listener.listen(multiaddr(addr))
  const addrs = listener.getAddrs()
  assert.ok(addrs.length > 0, 'a listening listener reports at least one address')
  return { listener, addr: addrs[0], accepted }
}

/** Reads to end-of-stream, refusing more than `max` bytes. */
export async function readAll (conn: RawConnection, max: number = 64 * 1024 * 1024): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let total = 0
  const signal = AbortSignal.timeout(WAIT_MS * 3)
  for (;;) {
    const chunk = await conn.read({ signal })
    if (chunk === null) break
    total += chunk.length
    if (total > max) throw new Error(`more than ${max} bytes received`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, total)
}

/** Writes `data` in `chunkSize` pieces honouring backpressure, then half-closes. */
export async function writeAllAndClose (conn: RawConnection, data: Uint8Array, chunkSize: number = 64 * 1024): Promise<void> {
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    await conn.write(data.subarray(offset, offset + chunkSize))
  }
  await conn.closeWrite()
}

/** Reads exactly `length` bytes (chunks may not cross that boundary), without waiting for EOF. */
export async function readExactly (conn: RawConnection, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length)
  let received = 0
  const signal = AbortSignal.timeout(WAIT_MS * 3)
  while (received < length) {
    const chunk = await conn.read({ signal })
    if (chunk === null) throw new Error(`end-of-stream after ${received} of ${length} bytes`)
    if (chunk.length > length - received) throw new Error(`more than ${length} bytes received`)
    out.set(chunk, received)
    received += chunk.length
  }
  return out
}

/** Writes `data` in `chunkSize` pieces honouring backpressure, without closing. */
export async function writeAll (conn: RawConnection, data: Uint8Array, chunkSize: number = 64 * 1024): Promise<void> {
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    await conn.write(data.subarray(offset, offset + chunkSize))
  }
}

/** Echoes everything back, then half-closes when the remote does. */
export async function echo (conn: RawConnection): Promise<void> {
  for await (const chunk of conn) await conn.write(chunk)
  await conn.closeWrite()
}

function pseudoRandomBytes (length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  let x = seed >>> 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

function sha256 (b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex')
}

function portOf (addr: Multiaddr): number {
  const tcp = addr.getComponents().find(c => c.name === 'tcp')
  return Number(tcp?.value)
}

export function transportConformance (opts: TransportConformanceOptions): void {
  const failedCode = opts.connectionFailedCode ?? 'ERR_CONNECTION_FAILED'
  const halfClose = opts.halfClose ?? true

  /** Sends `payload` to an echoing remote and returns what came back. Without half-close the
   * client reads the whole echo before it closes (closing first would cut the echo off). */
  async function roundTrip (client: RawConnection, payload: Uint8Array): Promise<Uint8Array> {
    if (halfClose) {
      const [, back] = await Promise.all([writeAllAndClose(client, payload), readAll(client)])
      return back
    }
    const [, back] = await Promise.all([writeAll(client, payload), readExactly(client, payload.length)])
    await client.close()
    return back
  }

  describe(`${opts.name} transport conformance`, () => {
    test('listens on port 0, reports the bound port, and a dial reaches it', async () => {
      const transport = opts.createTransport()
      const { listener, addr, accepted } = await listen(transport, opts.listenAddr)
      try {
        assert.notEqual(portOf(addr), 0)
        assert.deepEqual(transport.listenFilter([multiaddr(opts.listenAddr)]).length, 1)
        const client = await transport.dial(addr)
        const server = await accepted.next()
        assert.equal(client.direction, 'outbound')
        assert.equal(server.direction, 'inbound')
        assert.equal(portOf(client.remoteAddr), portOf(addr))
        assert.ok(client.localAddr !== undefined)
        assert.equal(portOf(server.remoteAddr), portOf(client.localAddr))
        client.send(Uint8Array.of(1, 2, 3))
        assert.deepEqual(await server.read(), Uint8Array.of(1, 2, 3))
        await client.close()
        await server.close()
        await Promise.all([client.closed, server.closed])
      } finally {
        await listener.close()
      }
    })

    test('10 MiB each way at the same time arrive byte-exact', async () => {
      const transport = opts.createTransport()
      const { listener, addr, accepted } = await listen(transport, opts.listenAddr)
      try {
        const size = 10 * 1024 * 1024
        const up = pseudoRandomBytes(size, 1)
        const down = pseudoRandomBytes(size, 2)
        const client = await transport.dial(addr)
        const server = await accepted.next()
        const [, , gotUp, gotDown] = halfClose
          ? await Promise.all([
            writeAllAndClose(client, up, 100_000),
            writeAllAndClose(server, down, 16_384),
            readAll(server),
            readAll(client)
          ])
          : await Promise.all([
            writeAll(client, up, 100_000),
            writeAll(server, down, 16_384),
            readExactly(server, size),
            readExactly(client, size)
          ])
        if (!halfClose) {
          await client.close()
          assert.equal(await server.read(), null)
        }
        assert.equal(gotUp.length, size)
        assert.equal(gotDown.length, size)
        assert.equal(sha256(gotUp), sha256(up))
        assert.equal(sha256(gotDown), sha256(down))
        await Promise.all([client.closed, server.closed])
        assert.equal(client.status, 'closed')
        assert.equal(server.status, 'closed')
        assert.equal(client.error, undefined)
      } finally {
        await listener.close()
      }
    })

    for (const closer of ['dialer', 'listener'] as const) {
      // Each transport runs the close test matching its capability, so none is reported as skipped.
      if (!halfClose) test(`closeWrite by the ${closer} without half-close: the other side reads the data, then EOF, and both end cleanly`, async () => {
        const transport = opts.createTransport()
        const { listener, addr, accepted } = await listen(transport, opts.listenAddr)
        try {
          const client = await transport.dial(addr)
          const server = await accepted.next()
          const [first, second] = closer === 'dialer' ? [client, server] : [server, client]
          const payload = pseudoRandomBytes(300_000, 4)
          await writeAll(first, payload, 50_000)
          await first.closeWrite()
          assert.equal(first.writeStatus, 'closed')
          assert.equal(sha256(await readAll(second)), sha256(payload))
          await Promise.all([first.closed, second.closed])
          assert.equal(first.status, 'closed')
          assert.equal(second.status, 'closed')
          assert.equal(first.error, undefined)
          assert.equal(second.error, undefined)
          // No half-close: the end of one direction is the end of both.
          assert.equal(await first.read(), null)
          assert.throws(() => second.send(Uint8Array.of(1)))
        } finally {
          await listener.close()
        }
      })

      if (halfClose) test(`half-close by the ${closer}: the other side reads EOF and can still reply`, async () => {
        const transport = opts.createTransport()
        const { listener, addr, accepted } = await listen(transport, opts.listenAddr)
        try {
          const client = await transport.dial(addr)
          const server = await accepted.next()
          const [first, second] = closer === 'dialer' ? [client, server] : [server, client]
          await first.write(new TextEncoder().encode('request'))
          await first.closeWrite()
          assert.equal(first.writeStatus, 'closed')
          assert.equal(new TextDecoder().decode(await readAll(second)), 'request')
          assert.equal(second.readStatus, 'closed')
          // The half-closed side keeps reading.
          await second.write(new TextEncoder().encode('response'))
          await second.closeWrite()
          assert.equal(new TextDecoder().decode(await readAll(first)), 'response')
          await Promise.all([first.closed, second.closed])
          assert.equal(first.status, 'closed')
          assert.equal(second.status, 'closed')
        } finally {
          await listener.close()
        }
      })
    }

    test('abort is seen by the remote as a reset error', async () => {
      const transport = opts.createTransport()
      const { listener, addr, accepted } = await listen(transport, opts.listenAddr)
      try {
        const client = await transport.dial(addr)
        const server = await accepted.next()
        await client.write(Uint8Array.of(1))
        assert.deepEqual(await server.read(), Uint8Array.of(1))
        const pending = server.read()
        client.abort(new Error('local failure'))
        assert.equal(client.status, 'aborted')
        await assert.rejects(pending, (err: Error & { code?: string }) => err.code === 'ERR_STREAM_RESET')
        await server.closed
        assert.equal(server.status, 'reset')
        assert.throws(() => server.send(Uint8Array.of(1)))
      } finally {
        await listener.close()
      }
    })

    test('a dial to a port nobody listens on fails with a typed error', async () => {
      const transport = opts.createTransport()
      const { listener, addr } = await listen(transport, opts.listenAddr)
      await listener.close()
      await assert.rejects(transport.dial(addr), (err: Error & { code?: string }) => err.code === failedCode)
    })

    test('listener.close() stops new dials while open connections keep working', async () => {
      const transport = opts.createTransport()
      const { listener, addr, accepted } = await listen(transport, opts.listenAddr)
      const client = await transport.dial(addr)
      const server = await accepted.next()
      await listener.close()
      assert.deepEqual(listener.getAddrs(), [])
      await assert.rejects(transport.dial(addr), (err: Error & { code?: string }) => err.code === failedCode)
      await client.write(Uint8Array.of(7))
      assert.deepEqual(await server.read(), Uint8Array.of(7))
      await Promise.all([client.close(), server.close()])
      // Closing twice is harmless.
      await listener.close()
    })

    test('listening on an address in use fails with ListenError', async () => {
      const transport = opts.createTransport()
      const { listener, addr } = await listen(transport, opts.listenAddr)
      try {
        const second = transport.createListener({ onConnection () {} })
        await assert.rejects(second.listen(addr), { code: 'ERR_LISTEN_FAILED' })
      } finally {
        await listener.close()
      }
    })

    test('an onConnection handler that throws costs the connection, not the listener', async () => {
      const transport = opts.createTransport()
      let calls = 0
      const listener = transport.createListener({ onConnection: () => { calls++; throw new Error('handler bug') } })
      await listener.listen(multiaddr(opts.listenAddr))
      try {
        for (let i = 0; i < 2; i++) {
          // The reset may even beat the client's connect event on loopback.
          const outcome = await transport.dial(listener.getAddrs()[0]).then(
            async conn => await conn.read().then(() => 'readable', (err: Error & { code?: string }) => err.code),
            (err: Error & { code?: string }) => err.code)
          assert.ok(outcome === 'ERR_STREAM_RESET' || outcome === 'ERR_CONNECTION_FAILED', String(outcome))
        }
        assert.equal(calls, 2)
      } finally {
        await listener.close()
      }
    })

    test('a dial can be aborted through its signal', async () => {
      const transport = opts.createTransport()
      const { listener, addr } = await listen(transport, opts.listenAddr)
      try {
        const isAbort = (err: Error & { code?: string }): boolean => err.code === 'ABORT_ERR'
        await assert.rejects(transport.dial(addr, { signal: AbortSignal.abort() }), isAbort)
        const controller = new AbortController()
        const dialing = transport.dial(addr, { signal: controller.signal })
        controller.abort()
        await assert.rejects(dialing, isAbort)
      } finally {
        await listener.close()
      }
    })

    test('inbound connections beyond the limit are closed at once', async () => {
      const transport = opts.createTransport({ maxConnections: 2 })
      const { listener, addr, accepted } = await listen(transport, opts.listenAddr)
      try {
        const a = await transport.dial(addr)
        const aServer = await accepted.next()
        const b = await transport.dial(addr)
        const bServer = await accepted.next()
        // The kernel may complete the handshake, but the listener closes the socket: the
        // dialer sees end-of-stream or a reset, never a usable connection.
        let third: RawConnection | undefined
        try {
          third = await transport.dial(addr)
        } catch (err) {
          assert.equal((err as { code?: string }).code, failedCode)
        }
        if (third !== undefined) {
          const outcome = await third.read({ signal: AbortSignal.timeout(WAIT_MS) }).then(chunk => chunk, (err: Error & { code?: string }) => err.code)
          assert.ok(outcome === null || outcome === 'ERR_STREAM_RESET', `unexpected outcome ${String(outcome)}`)
          third.abort(new Error('done'))
        }
        assert.equal(accepted.connections.length, 2)
        // The accepted ones are unaffected.
        void echo(aServer)
        void echo(bServer)
        await a.write(Uint8Array.of(1))
        await b.write(Uint8Array.of(2))
        assert.deepEqual(await a.read(), Uint8Array.of(1))
        assert.deepEqual(await b.read(), Uint8Array.of(2))
        await Promise.all([a.close(), b.close()])
        // Once one closes, a new connection fits under the limit again.
        await aServer.closed
        const c = await transport.dial(addr)
        const cServer = await accepted.next()
        void echo(cServer)
        await c.write(Uint8Array.of(3))
        assert.deepEqual(await c.read(), Uint8Array.of(3))
        await c.close()
      } finally {
        await listener.close()
      }
    })

    test('IPv6 loopback', async (t) => {
      if (opts.listenAddrIPv6 === undefined) { t.skip('no IPv6 address configured'); return }
      const transport = opts.createTransport()
      let listening: Awaited<ReturnType<typeof listen>>
      try {
        listening = await listen(transport, opts.listenAddrIPv6)
      } catch (err) {
        t.skip(`this machine has no IPv6 loopback (${(err as Error).message})`)
        return
      }
      const { listener, addr, accepted } = listening
      try {
        assert.equal(addr.getComponents()[0].name, 'ip6')
        const client = await transport.dial(addr)
        const server = await accepted.next()
        assert.equal(server.remoteAddr.getComponents()[0].name, 'ip6')
        void echo(server)
        const payload = pseudoRandomBytes(200_000, 3)
        assert.equal(sha256(await roundTrip(client, payload)), sha256(payload))
      } finally {
        await listener.close()
      }
    })

    test('a wildcard listen address is reported as concrete interface addresses', async (t) => {
      if (opts.listenAddrWildcard === undefined) { t.skip('no wildcard address configured'); return }
      const transport = opts.createTransport()
      const { listener, accepted } = await listen(transport, opts.listenAddrWildcard)
      try {
        const addrs = listener.getAddrs()
        const port = portOf(addrs[0])
        assert.notEqual(port, 0)
        for (const a of addrs) {
          assert.notEqual(a.getComponents()[0].value, '0.0.0.0')
          assert.equal(portOf(a), port)
        }
        const loopback = addrs.find(a => a.getComponents()[0].value === '127.0.0.1')
        assert.ok(loopback !== undefined, `the loopback interface is among ${addrs.map(String).join(', ')}`)
        const client = await transport.dial(loopback)
        const server = await accepted.next()
        await Promise.all([client.close(), server.close()])
      } finally {
        await listener.close()
      }
    })

    test('many concurrent connections each carry their own bytes', async () => {
      const transport = opts.createTransport()
      const { listener, addr, accepted } = await listen(transport, opts.listenAddr)
      const count = 100
      let served = 0
      const serving = (async () => {
        const echoes: Array<Promise<void>> = []
        while (served < count) { echoes.push(echo(await accepted.next())); served++ }
        await Promise.all(echoes)
      })()
      try {
        await Promise.all(Array.from({ length: count }, async (_, i) => {
          const client = await transport.dial(addr)
          const payload = pseudoRandomBytes(4096 + i, i + 10)
          assert.equal(sha256(await roundTrip(client, payload)), sha256(payload))
          await client.closed
        }))
        await serving
        assert.equal(accepted.connections.length, count)
      } finally {
        await listener.close()
      }
    })
  })
}
