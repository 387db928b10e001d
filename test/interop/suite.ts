/**
 * The interop acceptance suite, shared by test/interop/js.test.ts and go.test.ts: one
 * `describe` per (remote implementation, muxer, who dials), one spawned reference peer and
 * one ts-libp2p node per describe, and one `it` per capability (connect, ping, identify,
 * echo 10 MiB, 100 concurrent streams, remote reset, clean close), each exercised in both
 * directions over the same connection.
 *
 * Nothing here sleeps: every wait is on an explicit event, reply or stream end, with a bound.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createLibp2p, generateKeyPair, multiaddr, peerIdFromString, StreamResetError, UnsupportedProtocolError } from '../../src/index.ts'
import { echo } from '../../src/protocols/echo/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { mplex } from '../../src/muxer/mplex/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { tls } from '../../src/security/tls/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import type { IdentifyResult, KeyType, Libp2pEvents, Libp2p, PeerId, PrivateKey, Stream } from '../../src/index.ts'
import type { EchoService } from '../../src/protocols/echo/index.ts'
import type { IdentifyService } from '../../src/protocols/identify/index.ts'
import type { PingService } from '../../src/protocols/ping/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { spawnPeer } from './harness.ts'
import type { PeerKind, PeerProcess } from './harness.ts'

export const ECHO_PROTOCOL = '/echo/1.0.0'
export const RESET_PROTOCOL = '/test/reset/1.0.0'
export const BIG_ECHO_BYTES = 10 * 1024 * 1024
export const MANY_STREAMS = 100
export const MANY_STREAMS_BYTES = 64 * 1024

/** Bound of one capability test; generous for a loaded 2-core CI machine. */
const CAPABILITY_TIMEOUT_MS = 60_000
/** Bound of one wait on an event or a read that should be quick. */
const EVENT_TIMEOUT_MS = 10_000
/**
 * Our muxers' graceful-close bound. Long on purpose: a close that stalls (a stream the remote
 * never finishes) then fails the bounded hangUp instead of hiding behind a 2 s reset.
 */
const MUXER_CLOSE_TIMEOUT_MS = 30_000
/** Our write granularity for payloads: exercises send()/drain() backpressure. */
const WRITE_CHUNK = 64 * 1024

export type MuxerName = 'yamux' | 'mplex'
export type SecurityName = 'noise' | 'tls'

export const SECURITY_PROTOCOL: Record<SecurityName, string> = {
  noise: '/noise',
  tls: '/tls/1.0.0'
}
/** 'outbound': we dial the reference peer; 'inbound': it dials us. */
export type DialDirection = 'outbound' | 'inbound'

export interface RemoteProfile {
  kind: PeerKind
  /** Protocols the reference peer serves (and so must announce in identify). */
  protocols: string[]
  /** The identify protocolVersion it sends (go sends an empty one). */
  protocolVersion: string
  /** The multiaddr it saw us at when it dialed us is its listen address (go's SO_REUSEPORT). */
  dialsFromListenPort: boolean
  /**
   * The remote's own defect, with its explanation: it reads a stream we reset as a clean end
   * (py-libp2p 0.8, against go and js too). The test then asserts exactly that, so a fixed
   * remote fails it and the exception gets removed.
   */
  readsResetAsEnd?: string
  /**
   * False when its identify signs the peer record under another domain than RFC 0003's
   * "libp2p-peer-record" (rust-libp2p 0.57: "libp2p-routing-state", rust-libp2p issue 6204),
   * so we must reject the record and keep its addresses uncertified. Default true.
   */
  specPeerRecord?: boolean
}

export const MUXER_PROTOCOL: Record<MuxerName, string> = {
  yamux: '/yamux/1.0.0',
  mplex: '/mplex/6.7.0'
}

type InteropNode = Libp2p<{ identify: IdentifyService, ping: PingService, echo: EchoService }>

/** A node set up as every interop test wants it: TCP on 127.0.0.1, Noise (or TLS), one muxer. */
async function createInteropNode (muxer: MuxerName, options: { userAgent?: string, privateKey?: PrivateKey, security?: SecurityName } = {}): Promise<InteropNode> {
  return await createLibp2p({
    privateKey: options.privateKey,
    nodeInfo: options.userAgent !== undefined ? { userAgent: options.userAgent } : undefined,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [options.security === 'tls' ? tls() : noise()],
    streamMuxers: [muxer === 'yamux' ? yamux({ closeTimeout: MUXER_CLOSE_TIMEOUT_MS }) : mplex({ closeTimeout: MUXER_CLOSE_TIMEOUT_MS })],
    services: {
      identify: identify(),
      ping: ping(),
      echo: echo({ maxInboundStreams: 4 * MANY_STREAMS, maxOutboundStreams: 4 * MANY_STREAMS })
    }
  })
}

// ------------------------------------------------------------ payloads --

/**
 * The payload of echo stream `index` as interop/README.md defines it: xorshift32 seeded with
 * ((index + 1) * 0x9E3779B9) mod 2^32 (1 if 0), each 32-bit output little-endian, truncated.
 */
export function echoPattern (length: number, index: number): Uint8Array {
  const out = new Uint8Array(length)
  const view = new DataView(out.buffer)
  let x = Math.imul(index + 1, 0x9E3779B9) >>> 0
  if (x === 0) x = 1
  const whole = length & ~3
  let i = 0
  for (; i < whole; i += 4) {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    view.setUint32(i, x, true)
  }
  if (i < length) {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    for (let b = 0; i < length; i++, b++) out[i] = (x >>> (8 * b)) & 0xff
  }
  return out
}

function firstDifference (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i
  return a.length === b.length ? -1 : n
}

/**
 * Writes `payload` on a negotiated echo stream in WRITE_CHUNK pieces while reading the echo,
 * half-closes, reads to end-of-stream and checks the bytes. Bounded by `signal`.
 */
export async function echoAndVerify (stream: Stream, payload: Uint8Array, signal: AbortSignal, label = 'echo', writeChunk = WRITE_CHUNK): Promise<void> {
  const received = new Uint8Array(payload.length)
  let receivedLength = 0
  const reading = (async () => {
    for (;;) {
      const chunk = await stream.read({ signal })
      if (chunk === null) return
      if (chunk.length > received.length - receivedLength) {
        throw new Error(`${label}: received more than the ${payload.length} bytes sent`)
      }
      received.set(chunk, receivedLength)
      receivedLength += chunk.length
    }
  })()
  try {
    for (let offset = 0; offset < payload.length; offset += writeChunk) {
      if (!stream.send(payload.subarray(offset, offset + writeChunk))) await stream.drain({ signal })
    }
    await stream.closeWrite({ signal })
    await reading
  } catch (err) {
    stream.abort(err as Error)
    await reading.catch(() => {})
    throw err
  }
  const diff = firstDifference(received.subarray(0, receivedLength), payload)
  if (diff !== -1) {
    throw new Error(`${label}: echo differs from what was sent (sent ${payload.length}, received ${receivedLength}, first difference at byte ${diff})`)
  }
  await stream.closed
  assert.equal(stream.error, undefined, `${label}: the stream ended with an error`)
}

/** Rejects when `promise` has not settled within `ms`. */
async function withDeadline<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`${what} did not finish within ${ms} ms`)) }, ms)
  })
  try {
    return await Promise.race([promise, expired])
  } finally {
    clearTimeout(timer)
  }
}

/** Reads until the stream ends or fails; returns the error, or undefined at a clean EOF. */
async function readUntilFailure (stream: Stream, signal: AbortSignal): Promise<unknown> {
  try {
    while (await stream.read({ signal }) !== null) { /* discard */ }
    return undefined
  } catch (err) {
    return err
  }
}

// -------------------------------------------------------------- events --

interface LoggedEvent<K extends keyof Libp2pEvents> { type: K, detail: Libp2pEvents[K] }

/** Records our node's peer events from creation on, so a wait never misses an early one. */
class EventLog {
  readonly #events: Array<LoggedEvent<keyof Libp2pEvents>> = []
  readonly #waiters = new Set<(e: LoggedEvent<keyof Libp2pEvents>) => void>()

  constructor (node: InteropNode) {
    for (const type of ['peer:connect', 'peer:disconnect', 'peer:identify'] as const) {
      node.addEventListener(type, (evt: CustomEvent) => {
        const e = { type, detail: evt.detail }
        this.#events.push(e)
        for (const w of [...this.#waiters]) w(e)
      })
    }
  }

  get length (): number { return this.#events.length }

  wait<K extends keyof Libp2pEvents> (type: K, pred: (detail: Libp2pEvents[K]) => boolean, since = 0, timeoutMs = EVENT_TIMEOUT_MS): Promise<Libp2pEvents[K]> {
    const matches = (e: LoggedEvent<keyof Libp2pEvents>): boolean => e.type === type && pred(e.detail as Libp2pEvents[K])
    const found = this.#events.slice(since).find(matches)
    if (found !== undefined) return Promise.resolve(found.detail as Libp2pEvents[K])
    return new Promise((resolve, reject) => {
      const waiter = (e: LoggedEvent<keyof Libp2pEvents>): void => {
        if (!matches(e)) return
        clearTimeout(timer)
        this.#waiters.delete(waiter)
        resolve(e.detail as Libp2pEvents[K])
      }
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter)
        reject(new Error(`our node: no ${type} event within ${timeoutMs} ms (seen: ${this.#events.map(x => x.type).join(', ')})`))
      }, timeoutMs)
      this.#waiters.add(waiter)
    })
  }
}

// --------------------------------------------------------------- suite --

function withoutPeerId (addr: string): string {
  return addr.replace(/\/p2p\/[^/]+$/, '')
}

function isPeer (id: PeerId, expected: string): boolean {
  return id.toString() === expected
}

/**
 * Registers one describe block: a fresh reference peer (`profile.kind`, `muxer`) and a fresh
 * ts-libp2p node, connected in `direction`, then every capability test in order.
 */
export function interopSuite (profile: RemoteProfile, muxer: MuxerName, direction: DialDirection, security: SecurityName = 'noise'): void {
  const title = `${profile.kind}-libp2p, ${security} + ${muxer}, ${direction === 'outbound' ? `we dial ${profile.kind}` : `${profile.kind} dials us`}`

  describe(title, () => {
    const remoteAgent = `interop-${profile.kind}-peer/${randomBytes(4).toString('hex')}`
    const ourAgent = `ts-libp2p-interop/${randomBytes(4).toString('hex')}`
    let remote: PeerProcess
    let remotePeer: PeerId
    let node: InteropNode
    let events: EventLog
    /** what our reset handler saw, per inbound /test/reset/1.0.0 stream */
    const resetHandlerReads: number[] = []

    const signal = (ms = CAPABILITY_TIMEOUT_MS): AbortSignal => AbortSignal.timeout(ms)
    const ourId = (): string => node.peerId.toString()
    const ourTcpAddr = (): string => {
      const addr = node.getMultiaddrs().map(String).find(a => a.startsWith('/ip4/127.0.0.1/tcp/'))
      assert.ok(addr !== undefined, `our node has no 127.0.0.1 address: ${node.getMultiaddrs().map(String).join(', ')}`)
      return addr
    }
    const onlyConnection = () => {
      const connections = node.getConnections(remotePeer)
      assert.equal(connections.length, 1, `expected exactly one connection to the ${profile.kind} peer, found ${connections.length}`)
      return connections[0]
    }

    before(async () => {
      remote = await spawnPeer(profile.kind, ['--muxer', muxer, '--agent', remoteAgent, ...security === 'noise' ? [] : ['--security', security]])
      remotePeer = peerIdFromString(remote.peerId)
      node = await createInteropNode(muxer, { userAgent: ourAgent, security })
      events = new EventLog(node)
      // the reset test handler: read at least one byte, then reset the stream
      await node.handle(RESET_PROTOCOL, async (stream) => {
        let read = 0
        try {
          while (read === 0) {
            const chunk = await stream.read({ signal: signal(EVENT_TIMEOUT_MS) })
            if (chunk === null) break
            read += chunk.length
          }
        } finally {
          resetHandlerReads.push(read)
          stream.abort(new Error('reset by the /test/reset/1.0.0 test handler'))
        }
      })
    })

    after(async () => {
      await node?.stop()
      await remote?.stop()
    })

    it('connects', { timeout: CAPABILITY_TIMEOUT_MS }, async () => {
      const remoteSince = remote.events.length
      if (direction === 'outbound') {
        const connection = await node.dial(multiaddr(remote.addrs[0]), { signal: signal() })
        assert.equal(connection.remotePeer.toString(), remote.peerId)
        assert.equal(connection.direction, 'outbound')
      } else {
        const reply = await remote.commandOk({ cmd: 'dial', addr: ourTcpAddr() })
        assert.equal(reply.peerId, ourId())
      }
      await events.wait('peer:connect', id => isPeer(id, remote.peerId))
      await remote.waitEvent(e => e.event === 'peer:connect' && e.peerId === ourId(), EVENT_TIMEOUT_MS, { since: remoteSince })

      const connection = onlyConnection()
      assert.equal(connection.direction, direction)
      assert.equal(connection.status, 'open')
      assert.equal(connection.encryption, SECURITY_PROTOCOL[security])
      assert.equal(connection.multiplexer, MUXER_PROTOCOL[muxer])
      const { peers } = await remote.commandOk({ cmd: 'connections' })
      assert.deepEqual(peers, [ourId()])
    })

    it('pings both ways', { timeout: CAPABILITY_TIMEOUT_MS }, async () => {
      for (let i = 0; i < 3; i++) {
        const rtt = await node.services.ping.ping(remotePeer, { signal: signal() })
        assert.ok(Number.isFinite(rtt) && rtt >= 0, `bad rtt ${rtt}`)
      }
      const { rtts } = await remote.commandOk({ cmd: 'ping', peer: ourId(), count: 3 })
      assert.equal(rtts.length, 3)
      for (const rtt of rtts) assert.ok(Number.isFinite(rtt) && rtt >= 0, `bad remote rtt ${String(rtt)}`)
      onlyConnection()
    })

    it('identifies both ways', { timeout: CAPABILITY_TIMEOUT_MS }, async () => {
      const remoteListenAddr = withoutPeerId(remote.addrs[0])
      const connection = onlyConnection()

      // what we learned about them
      const result: IdentifyResult = await events.wait('peer:identify', r => isPeer(r.peerId, remote.peerId))
      assert.deepEqual([...result.protocols].sort(), [...profile.protocols].sort())
      assert.ok(result.listenAddrs.map(String).includes(remoteListenAddr),
        `their listen address ${remoteListenAddr} is not among ${result.listenAddrs.map(String).join(', ')}`)
      assert.equal(result.agentVersion, remoteAgent)
      assert.equal(result.protocolVersion ?? '', profile.protocolVersion)
      assert.ok(result.publicKey !== undefined, 'no public key in identify')
      const certified = profile.specPeerRecord ?? true
      if (certified) assert.ok(result.signedPeerRecord !== undefined, 'their signed peer record was missing or rejected')
      else assert.equal(result.signedPeerRecord, undefined, 'we accepted a peer record signed outside the libp2p-peer-record domain')
      // what they saw of us: our socket address on this connection
      assert.ok(result.observedAddr !== undefined, 'no observed address in identify')
      const observed = result.observedAddr.toString()
      if (direction === 'inbound') {
        assert.equal(observed, withoutPeerId(ourTcpAddr()))
      } else {
        assert.match(observed, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
      }

      const stored = await node.peerStore.get(remotePeer)
      assert.deepEqual([...stored.protocols].sort(), [...profile.protocols].sort())
      const storedAddr = stored.addresses.find(a => a.multiaddr.toString() === remoteListenAddr)
      assert.ok(storedAddr !== undefined, `peer store lacks ${remoteListenAddr}: ${stored.addresses.map(a => a.multiaddr.toString()).join(', ')}`)
      assert.equal(storedAddr.isCertified, certified, certified ? 'address from the signed peer record is not certified' : 'an address is certified without a valid record')
      assert.equal(new TextDecoder().decode(stored.metadata.get('AgentVersion')), remoteAgent)
      assert.equal(stored.publicKey?.equals(result.publicKey), true)

      // what they learned about us
      const theirs = await remote.commandOk({ cmd: 'identify', peer: ourId() })
      assert.deepEqual([...theirs.protocols].sort(), node.getProtocols().sort())
      for (const p of [ECHO_PROTOCOL, RESET_PROTOCOL, '/ipfs/id/1.0.0', '/ipfs/id/push/1.0.0', '/ipfs/ping/1.0.0']) {
        assert.ok(theirs.protocols.includes(p), `${profile.kind} did not learn that we serve ${p}`)
      }
      assert.ok(theirs.listenAddrs.includes(withoutPeerId(ourTcpAddr())),
        `${profile.kind} did not learn our listen address ${ourTcpAddr()}: ${JSON.stringify(theirs.listenAddrs)}`)
      assert.equal(theirs.agentVersion, ourAgent)
      assert.equal(theirs.protocolVersion, 'ipfs/0.1.0')
      // what we saw of them: their socket address on this connection
      const seen = withoutPeerId(connection.remoteAddr.toString())
      assert.equal(theirs.observedAddr, seen)
      if (direction === 'outbound' || profile.dialsFromListenPort) assert.equal(seen, remoteListenAddr)
    })

    it(`echoes ${BIG_ECHO_BYTES} bytes each way`, { timeout: CAPABILITY_TIMEOUT_MS }, async () => {
      const remoteSince = remote.events.length
      const stream = await node.dialProtocol(remotePeer, ECHO_PROTOCOL, { signal: signal() })
      assert.equal(stream.protocol, ECHO_PROTOCOL)
      await echoAndVerify(stream, echoPattern(BIG_ECHO_BYTES, 0), signal(), 'we -> them')
      await remote.waitEvent(e => e.event === 'echo:done' && e.peerId === ourId(), EVENT_TIMEOUT_MS, { since: remoteSince })
        .then(e => { assert.equal(e.bytes, BIG_ECHO_BYTES) })

      // they send to our echo service and compare (their reply is ok only if byte-exact)
      const reply = await remote.commandOk({ cmd: 'echo', peer: ourId(), bytes: BIG_ECHO_BYTES, streams: 1, timeoutMs: CAPABILITY_TIMEOUT_MS - 5_000 })
      assert.equal(reply.bytes, BIG_ECHO_BYTES)
      onlyConnection()
    })

    it('echoes 0 bytes, 1 byte, and 1 MiB + 1 in a single write, each way, lazy and fully negotiated', { timeout: CAPABILITY_TIMEOUT_MS }, async () => {
      for (const size of [0, 1, 1024 * 1024 + 1]) {
        // lazy: the protocol proposal must go out with (or before) the data and the FIN
        for (const negotiateFully of [true, false]) {
          const stream = await node.dialProtocol(remotePeer, ECHO_PROTOCOL, { negotiateFully, signal: signal() })
          // one send() of the whole payload: the muxer must split it into frames the remote
          // accepts (mplex messages are at most 1 MiB in go and js)
          await echoAndVerify(stream, echoPattern(size, 0), signal(EVENT_TIMEOUT_MS), `we -> them, ${size} bytes, negotiateFully ${negotiateFully}`, Math.max(size, 1))
        }
        await remote.commandOk({ cmd: 'echo', peer: ourId(), bytes: size, streams: 1, timeoutMs: EVENT_TIMEOUT_MS })
      }
    })

    it('negotiates protocols: fallback, and a typed error for an unsupported one', { timeout: CAPABILITY_TIMEOUT_MS }, async () => {
      const connection = onlyConnection()
      const fallback = await connection.newStream(['/unsupported/1.0.0', ECHO_PROTOCOL], { signal: signal(EVENT_TIMEOUT_MS) })
      assert.equal(fallback.protocol, ECHO_PROTOCOL)
      await echoAndVerify(fallback, echoPattern(100, 1), signal(EVENT_TIMEOUT_MS), 'fallback')

      await assert.rejects(
        connection.newStream('/unsupported/1.0.0', { negotiateFully: true, signal: signal(EVENT_TIMEOUT_MS) }),
        (err: Error) => err instanceof UnsupportedProtocolError)

      // Lazy select: the proposal and our first bytes go out together; the refusal surfaces
      // on the stream. (The remote reads our data as a bad second proposal and resets, so
      // over yamux the reset can overtake the "na": either error is acceptable.)
      const lazy = await connection.newStream('/unsupported/1.0.0', { negotiateFully: false, signal: signal(EVENT_TIMEOUT_MS) })
      lazy.send(new Uint8Array([1, 2, 3]))
      const err = await readUntilFailure(lazy, signal(EVENT_TIMEOUT_MS))
      assert.ok(err instanceof UnsupportedProtocolError || err instanceof StreamResetError, `lazy select of an unsupported protocol gave ${String(err)}`)

      assert.equal(connection.status, 'open')
      await node.services.ping.ping(remotePeer, { signal: signal(EVENT_TIMEOUT_MS) })
    })

    it(`runs ${MANY_STREAMS} concurrent echo streams each way`, { timeout: CAPABILITY_TIMEOUT_MS }, async () => {
      const deadline = signal()
      const results = await Promise.allSettled(Array.from({ length: MANY_STREAMS }, async (_, k) => {
        const stream = await node.dialProtocol(remotePeer, ECHO_PROTOCOL, { signal: deadline })
        await echoAndVerify(stream, echoPattern(MANY_STREAMS_BYTES, k), deadline, `we -> them, stream ${k}`)
      }))
      const failures = results.flatMap((r, k) => r.status === 'rejected' ? [`stream ${k}: ${String(r.reason)}`] : [])
      assert.deepEqual(failures, [], `${failures.length} of ${MANY_STREAMS} streams failed`)

      await remote.commandOk({ cmd: 'echo', peer: ourId(), bytes: MANY_STREAMS_BYTES, streams: MANY_STREAMS, timeoutMs: CAPABILITY_TIMEOUT_MS - 5_000 })
      assert.equal(onlyConnection().status, 'open')
    })

    it('surfaces a remote stream reset each way', { timeout: CAPABILITY_TIMEOUT_MS }, async () => {
      const stream = await node.dialProtocol(remotePeer, RESET_PROTOCOL, { signal: signal() })
      stream.send(new TextEncoder().encode('reset me'))
      const err = await readUntilFailure(stream, signal(EVENT_TIMEOUT_MS))
      assert.ok(err instanceof StreamResetError, `reading a stream ${profile.kind} reset gave ${err === undefined ? 'a clean end-of-stream' : String(err)}, not StreamResetError`)
      await stream.closed
      assert.equal(stream.status, 'reset')
      assert.ok(stream.error instanceof StreamResetError)
      await assert.rejects(stream.write(new Uint8Array(1)), 'writing to a reset stream must fail')

      if (profile.readsResetAsEnd === undefined) {
        const reply = await remote.commandOk({ cmd: 'reset', peer: ourId() })
        assert.match(String(reply.error), /reset/i)
      } else {
        const reply = await remote.command({ cmd: 'reset', peer: ourId() })
        assert.deepEqual([reply.ok, /clean EOF/.test(String(reply.error))], [false, true], `${profile.readsResetAsEnd}: ${JSON.stringify(reply)}`)
      }
      assert.equal(resetHandlerReads.length, 1)
      assert.ok(resetHandlerReads[0] >= 1, 'our reset handler saw no byte before resetting')

      // a reset stream must not take the connection down
      assert.equal(onlyConnection().status, 'open')
      await node.services.ping.ping(remotePeer, { signal: signal(EVENT_TIMEOUT_MS) })
      await remote.commandOk({ cmd: 'ping', peer: ourId() })
    })

    it('closes cleanly on both ends', { timeout: CAPABILITY_TIMEOUT_MS }, async () => {
      const ourSince = events.length
      const remoteSince = remote.events.length
      // the dialer hangs up, so the two directions test both closing roles
      if (direction === 'outbound') {
        // A stream still open when we hang up must be finished gracefully by both sides (our
        // ping stream, kept for reuse, is another one): its echo arrives, then a clean EOF.
        const open = await node.dialProtocol(remotePeer, ECHO_PROTOCOL, { signal: signal() })
        const hello = echoPattern(5, 7)
        await open.write(hello)
        const first = await open.read({ signal: signal(EVENT_TIMEOUT_MS) })
        assert.deepEqual(first, hello)
        await withDeadline(node.hangUp(remotePeer), EVENT_TIMEOUT_MS, 'hangUp (a stream was not finished by the remote?)')
        assert.equal(await open.read({ signal: signal(EVENT_TIMEOUT_MS) }), null)
        await open.closed
        assert.equal(open.error, undefined, `the open stream ended with ${String(open.error)}`)
      } else {
        await remote.commandOk({ cmd: 'hangup', peer: ourId() })
      }
      await events.wait('peer:disconnect', id => isPeer(id, remote.peerId), ourSince)
      await remote.waitEvent(e => e.event === 'peer:disconnect' && e.peerId === ourId(), EVENT_TIMEOUT_MS, { since: remoteSince })
      assert.equal(node.getConnections(remotePeer).length, 0)
      const { peers } = await remote.commandOk({ cmd: 'connections' })
      assert.deepEqual(peers, [])

      assert.equal(await remote.stop(), 0, `the ${profile.kind} peer did not exit cleanly`)
      await node.stop()
      assert.equal(node.status, 'stopped')
      assert.equal(node.getConnections().length, 0)
    })
  })
}

/**
 * Registers a describe block for what does not need a fresh peer per capability: our node with
 * each non-default identity key type, dialing and dialed; and the remote process dying under
 * an active transfer.
 */
export function identityAndFailureSuite (profile: RemoteProfile, muxer: MuxerName, keyTypes: KeyType[]): void {
  describe(`${profile.kind}-libp2p, noise + ${muxer}: identity key types, abrupt exit`, () => {
    let remote: PeerProcess
    const nodes: InteropNode[] = []

    before(async () => {
      remote = await spawnPeer(profile.kind, ['--muxer', muxer])
    })

    after(async () => {
      await Promise.all(nodes.map(async n => { await n.stop() }))
      await remote?.stop()
    })

    for (const type of keyTypes) {
      it(`works with our ${type} identity, both dial directions`, { timeout: CAPABILITY_TIMEOUT_MS }, async () => {
        const node = await createInteropNode(muxer, { privateKey: await generateKeyPair(type) })
        nodes.push(node)
        const events = new EventLog(node)
        const ourId = node.peerId.toString()
        const remotePeer = peerIdFromString(remote.peerId)

        // we dial: the noise handshake proves our key to them, identify sends it again
        await node.dial(multiaddr(remote.addrs[0]), { signal: AbortSignal.timeout(EVENT_TIMEOUT_MS) })
        await node.services.ping.ping(remotePeer, { signal: AbortSignal.timeout(EVENT_TIMEOUT_MS) })
        const theirs = await remote.commandOk({ cmd: 'identify', peer: ourId })
        assert.ok(theirs.protocols.includes(ECHO_PROTOCOL))
        const remoteSince = remote.events.length
        await withDeadline(node.hangUp(remotePeer), EVENT_TIMEOUT_MS, 'hangUp')
        await events.wait('peer:disconnect', id => isPeer(id, remote.peerId))
        // Their dial is a no-op while they still hold the old connection: wait until they too
        // have seen it close, or the ping below may race its teardown.
        await remote.waitEvent(e => e.event === 'peer:disconnect' && e.peerId === ourId, EVENT_TIMEOUT_MS, { since: remoteSince })

        // they dial: now we are the noise responder
        const addr = node.getMultiaddrs().map(String).find(a => a.startsWith('/ip4/127.0.0.1/tcp/'))
        assert.ok(addr !== undefined)
        const reply = await remote.commandOk({ cmd: 'dial', addr })
        assert.equal(reply.peerId, ourId)
        await remote.commandOk({ cmd: 'ping', peer: ourId })
        await remote.commandOk({ cmd: 'echo', peer: ourId, bytes: 4096 })
        await remote.commandOk({ cmd: 'hangup', peer: ourId })
        await node.stop()
      })
    }

    it('notices when the remote process dies mid-transfer', { timeout: CAPABILITY_TIMEOUT_MS }, async () => {
      const node = await createInteropNode(muxer)
      nodes.push(node)
      const events = new EventLog(node)
      const victim = await spawnPeer(profile.kind, ['--muxer', muxer])
      const victimPeer = peerIdFromString(victim.peerId)
      await node.dial(multiaddr(victim.addrs[0]), { signal: AbortSignal.timeout(EVENT_TIMEOUT_MS) })
      const stream = await node.dialProtocol(victimPeer, ECHO_PROTOCOL, { signal: AbortSignal.timeout(EVENT_TIMEOUT_MS) })
      const first = echoPattern(1024, 3)
      await stream.write(first)
      assert.deepEqual(await stream.read({ signal: AbortSignal.timeout(EVENT_TIMEOUT_MS) }), first)

      victim.kill()
      await victim.exited
      await events.wait('peer:disconnect', id => isPeer(id, victim.peerId))
      assert.equal(node.getConnections(victimPeer).length, 0)
      const err = await readUntilFailure(stream, AbortSignal.timeout(EVENT_TIMEOUT_MS))
      assert.ok(err instanceof StreamResetError, `reading after the remote died gave ${String(err)}`)
      await assert.rejects(stream.write(first))
      await node.stop()
    })
  })
}
