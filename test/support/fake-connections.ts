/**
 * In-memory stand-ins for a registrar, connections and a connection manager, so protocol
 * services can be tested over real ByteStreams (duplex pairs) without the switch.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import { multiaddr } from '@multiformats/multiaddr'
import type { Connection, NewStreamOptions } from '../../src/interface/connection.ts'
import type { ConnectionManager } from '../../src/interface/connection-manager.ts'
import type { Registrar, StreamHandler, StreamHandlerOptions } from '../../src/interface/registrar.ts'
import type { PeerId } from '../../src/interface/peer-id.ts'
import type { Stream } from '../../src/interface/stream.ts'
import { PipeEnd } from '../../src/util/duplex-pair.ts'
import { UnsupportedProtocolError } from '../../src/util/errors.ts'
import { logger } from '../../src/util/logger.ts'

export class FakeStream extends PipeEnd implements Stream {
  readonly id: string
  readonly direction: 'inbound' | 'outbound'
  protocol: string
  readonly metadata: Record<string, unknown> = {}

  constructor (id: string, direction: 'inbound' | 'outbound', protocol: string, highWaterMark: number) {
    super(highWaterMark)
    this.id = id
    this.direction = direction
    this.protocol = protocol
  }
}

let nextId = 0

export class FakeRegistrar implements Registrar {
  readonly handlers = new Map<string, { handler: StreamHandler, options: StreamHandlerOptions }>()
  handle (protocol: string, handler: StreamHandler, options: StreamHandlerOptions = {}): void {
    if (this.handlers.has(protocol)) throw new Error(`${protocol} already handled`)
    this.handlers.set(protocol, { handler, options })
  }

  unhandle (protocol: string): void { this.handlers.delete(protocol) }
  getProtocols (): string[] { return [...this.handlers.keys()].sort() }
  getHandler (protocol: string) {
    const h = this.handlers.get(protocol)
    if (h === undefined) return undefined
    return { handler: h.handler, options: { maxInboundStreams: 32, maxOutboundStreams: 64, ...h.options } }
  }

  register (): string { return 'topology' }
  unregister (): void {}
}

export interface FakePeer {
  peerId: PeerId
  registrar: FakeRegistrar
}

export class FakeConnection implements Connection {
  readonly id = `conn-${nextId++}`
  readonly remotePeer: PeerId
  readonly remoteAddr: Multiaddr
  readonly direction: 'inbound' | 'outbound'
  readonly encryption = '/fake'
  readonly multiplexer = '/fake'
  status: 'open' | 'closing' | 'closed' = 'open'
  readonly timeline = { open: Date.now() }
  readonly streams: Stream[] = []
  other!: FakeConnection
  readonly remoteRegistrar: FakeRegistrar
  /** Streams opened so far, by protocol (for assertions). */
  readonly opened = new Map<string, number>()

  constructor (remotePeer: PeerId, remoteAddr: Multiaddr, direction: 'inbound' | 'outbound', remoteRegistrar: FakeRegistrar) {
    this.remotePeer = remotePeer
    this.remoteAddr = remoteAddr
    this.direction = direction
    this.remoteRegistrar = remoteRegistrar
  }

  async newStream (protocols: string | string[], options: NewStreamOptions = {}): Promise<Stream> {
    options.signal?.throwIfAborted()
    if (this.status !== 'open') throw new Error('connection closed')
    const list = Array.isArray(protocols) ? protocols : [protocols]
    const protocol = list.find(p => this.remoteRegistrar.handlers.has(p))
    if (protocol === undefined) throw new UnsupportedProtocolError(`remote does not support ${list.join(', ')}`)
    const id = String(nextId++)
    const local = new FakeStream(id, 'outbound', protocol, 64 * 1024)
    const remote = new FakeStream(id, 'inbound', protocol, 64 * 1024)
    local.peer = remote
    remote.peer = local
    this.streams.push(local)
    this.other.streams.push(remote)
    this.opened.set(protocol, (this.opened.get(protocol) ?? 0) + 1)
    const { handler } = this.remoteRegistrar.handlers.get(protocol)!
    // like the registrar: a failing handler resets its stream, nothing else
    queueMicrotask(() => {
      Promise.resolve(handler(remote, this.other)).catch((err: Error) => { remote.abort(err) })
    })
    return local
  }

  async close (): Promise<void> {
    this.status = 'closed'
    this.other.status = 'closed'
  }

  abort (): void { void this.close() }
}

/** A connected pair: `[aToB, bToA]`, each from its owner's point of view. */
export function connectFakePeers (a: FakePeer, b: FakePeer): [FakeConnection, FakeConnection] {
  const ab = new FakeConnection(b.peerId, multiaddr('/ip4/127.0.0.1/tcp/2000'), 'outbound', b.registrar)
  const ba = new FakeConnection(a.peerId, multiaddr('/ip4/127.0.0.1/tcp/1000'), 'inbound', a.registrar)
  ab.other = ba
  ba.other = ab
  return [ab, ba]
}

export function fakeConnectionManager (connections: Connection[]): ConnectionManager {
  return {
    async openConnection () {
      const c = connections[0]
      if (c === undefined) throw new Error('no connection')
      return c
    },
    getConnections (peerId?: PeerId) { return connections.filter(c => peerId === undefined || c.remotePeer.equals(peerId)) },
    async closeConnections () {}
  }
}

export function fakePeerId (name: string): PeerId {
  const bytes = new TextEncoder().encode(name)
  return {
    type: 'unknown',
    bytes,
    toString: () => name,
    toCID: () => name,
    equals: (other) => other !== undefined && other !== null && String(other) === name
  }
}

export { logger }
