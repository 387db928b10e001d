/**
 * One probe of `ts-libp2p doctor`: a fresh throwaway node that can speak exactly one
 * combination (transport, security, muxer) dials one address, identifies the peer and pings
 * it, with the time of each phase. The phases are read off the components themselves: the
 * transport's dial (connect), the encrypter's handshake (security, multistream-select
 * included), the muxer's creation (muxer; ~0 when the handshake negotiated it early), then
 * identify and the first ping; so the probe runs the same switch every other dial runs.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Transport } from '../../interface/transport.ts'
import type { ConnectionEncrypter } from '../../interface/security.ts'
import type { StreamMuxerFactory } from '../../interface/muxer.ts'
import type { ComponentFactory } from '../../node/options.ts'
import type { ComponentFactoryInput } from '../../interface/components.ts'
import { createLibp2p } from '../../node/create.ts'
import { identify } from '../../protocols/identify/index.ts'
import { ping } from '../../protocols/ping/index.ts'
import { MemoryDatastore } from '../../store/memory.ts'
import { withDeadline } from '../../util/deadline.ts'
import { isRelayed, withoutPeerId } from '../../util/multiaddr.ts'
import { oneLine } from '../args.ts'
import { combinationName, type Combination, type TransportKind } from './plan.ts'

export type Phase = 'connect' | 'security' | 'muxer' | 'identify' | 'ping'

export interface ProbeResult {
  address: string
  combination: string
  transport: TransportKind
  security?: string
  muxer?: string
  ok: boolean
  /** Milliseconds per phase that finished. */
  phases: Partial<Record<Phase, number>>
  /** The phase that failed, with why. */
  failedPhase?: Phase
  error?: string
  /** Who answered (authenticated by the handshake). */
  peerId?: string
  agentVersion?: string
  protocolVersion?: string
  protocols?: string[]
  listenAddrs?: string[]
  observedAddr?: string
  /** With `checkProtocols`: advertised protocols the peer refused to negotiate. */
  refusedProtocols?: string[]
}

/** Advertised protocols checked at most (each is one negotiation round trip). */
const MAX_PROTOCOLS_CHECKED = 64

/** Calls `onDone` when a method's promise resolves (or, for a sync method, when it returns). */
function timed<T extends object> (target: T, method: keyof T & string, onDone: (start: number) => void): T {
  return new Proxy(target, {
    get (object, property) {
      const value = Reflect.get(object, property, object) as unknown
      if (typeof value !== 'function') return value
      if (property !== method) return value.bind(object)
      return (...args: unknown[]) => {
        const start = performance.now()
        const result = (value as (...a: unknown[]) => unknown).apply(object, args)
        if (result instanceof Promise) return result.then((r: unknown) => { onDone(start); return r })
        onDone(start)
        return result
      }
    }
  })
}

/** A component (or its factory) whose `method` is timed. */
function timedFactory<T extends object> (factory: ComponentFactory<T>, method: keyof T & string, onDone: (start: number) => void): ComponentFactory<T> {
  if (typeof factory !== 'function') return timed(factory, method, onDone)
  const make = factory as (components: ComponentFactoryInput) => T
  return (components: ComponentFactoryInput) => timed(make(components), method, onDone)
}

async function transportFor (kind: TransportKind): Promise<Array<ComponentFactory<Transport>>> {
  switch (kind) {
    case 'tcp': return [(await import('../../transport/tcp/index.ts')).tcp()]
    case 'ws':
    case 'wss': return [(await import('../../transport/websockets/index.ts')).webSockets()]
    case 'quic-v1': return [(await import('../../transport/quic/index.ts')).quic()]
    case 'webtransport': return [(await import('../../transport/webtransport/index.ts')).webTransport()]
    case 'webrtc-direct': return [(await import('../../transport/webrtc/webrtc-direct.ts')).webRTCDirect()]
    case 'p2p-circuit': {
      const [{ tcp }, { webSockets }, { quic }, { circuitRelayTransport }] = await Promise.all([
        import('../../transport/tcp/index.ts'), import('../../transport/websockets/index.ts'), import('../../transport/quic/index.ts'), import('../../relay/index.ts')])
      return [circuitRelayTransport(), tcp(), webSockets(), quic()]
    }
  }
}

async function encrypterFor (name: string | undefined): Promise<ComponentFactory<ConnectionEncrypter>> {
  if (name === 'tls') return (await import('../../security/tls/index.ts')).tls()
  return (await import('../../security/noise/index.ts')).noise()
}

async function muxerFor (name: string | undefined): Promise<ComponentFactory<StreamMuxerFactory>> {
  if (name === 'mplex') return (await import('../../muxer/mplex/index.ts')).mplex()
  return (await import('../../muxer/yamux/index.ts')).yamux()
}

/**
 * Dials `addr` with `combination` only. The address's own /p2p id is left off the dial (kept
 * for relayed addresses, which need it), so a peer that is not who the address says still
 * answers and the caller can name who it is.
 */
export async function probe (addr: Multiaddr, combination: Combination, options: { timeout: number, signal?: AbortSignal, checkProtocols?: boolean }): Promise<ProbeResult> {
  const result: ProbeResult = {
    address: addr.toString(), combination: combinationName(combination), transport: combination.transport,
    ...(combination.security !== undefined ? { security: combination.security, muxer: combination.muxer } : {}),
    ok: false, phases: {}
  }
  const marks: { dialed?: number, secured?: number, muxed?: number } = {}
  let dialStart: number | undefined
  const transports = await transportFor(combination.transport)
  // the transport that dials the address itself: for a circuit, the relay transport
  transports[0] = timedFactory(transports[0], 'dial', (start) => { dialStart ??= start; marks.dialed = performance.now() })
  const node = await createLibp2p({
    transports,
    connectionEncrypters: [timedFactory(await encrypterFor(combination.security), 'secureOutbound', () => { marks.secured = performance.now() })],
    streamMuxers: [timedFactory(await muxerFor(combination.muxer), 'createStreamMuxer', () => { marks.muxed = performance.now() })],
    datastore: new MemoryDatastore(),
    addresses: { listen: [] },
    services: { identify: identify({ runOnConnectionOpen: false, timeout: options.timeout }), ping: ping({ timeout: options.timeout }) },
    connectionManager: { minConnections: 0 },
    start: false
  })
  let phase: Phase = 'connect'
  try {
    await node.start()
    await withDeadline(options.timeout, options.signal, `no answer within ${options.timeout} ms`, async (signal) => {
      const target = isRelayed(addr) ? addr : withoutPeerId(addr)
      const connection = await node.dial(target, { signal })
      // QUIC, WebTransport and WebRTC Direct secure and multiplex inside their dial
      const native = combination.security === undefined
      if (dialStart !== undefined && marks.dialed !== undefined) result.phases.connect = marks.dialed - dialStart
      if (!native && marks.dialed !== undefined && marks.secured !== undefined) result.phases.security = marks.secured - marks.dialed
      if (!native && marks.secured !== undefined && marks.muxed !== undefined) result.phases.muxer = marks.muxed - marks.secured
      result.peerId = connection.remotePeer.toString()
      phase = 'identify'
      let started = performance.now()
      const answer = await node.services.identify.identify(connection, { signal })
      result.phases.identify = performance.now() - started
      result.agentVersion = answer.agentVersion
      result.protocolVersion = answer.protocolVersion
      result.protocols = answer.protocols
      result.listenAddrs = answer.listenAddrs.map(a => a.toString())
      result.observedAddr = answer.observedAddr?.toString()
      phase = 'ping'
      started = performance.now()
      result.phases.ping = await node.services.ping.ping(connection, { signal })
      result.ok = true
      if (options.checkProtocols === true) {
        // negotiate each advertised protocol and reset the stream at once: a refusal means the
        // peer advertises what it does not serve
        result.refusedProtocols = []
        for (const protocol of answer.protocols.slice(0, MAX_PROTOCOLS_CHECKED)) {
          try {
            const stream = await connection.newStream(protocol, { signal })
            stream.abort(new Error('doctor: negotiation check only'))
          } catch (err) {
            if (signal.aborted) throw err
            result.refusedProtocols.push(protocol)
          }
        }
      }
    })
  } catch (err) {
    result.failedPhase = phase === 'connect' ? (marks.dialed === undefined ? 'connect' : marks.secured === undefined ? 'security' : 'muxer') : phase
    result.error = oneLine(err)
  } finally {
    await node.stop().catch(() => {})
  }
  return result
}
