/**
 * The node's own metrics: connections by transport, security, muxer and direction; streams
 * and bytes by protocol; bytes of the busiest peers; identify outcomes; event loop lag and
 * memory. Live state (open connections and their streams) is read when Prometheus scrapes;
 * only connection opens/closes and identify results are counted as they happen, once each.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Connection } from '../interface/connection.ts'
import type { ConnectionManager } from '../interface/connection-manager.ts'
import type { Libp2pEvents, TypedEvents } from '../interface/events.ts'
import type { Metrics } from '../interface/metrics.ts'
import type { Stream } from '../interface/stream.ts'
import { isRelayed } from '../util/multiaddr.ts'
import { unrefInterval } from '../util/timers.ts'

/** Peers listed by `libp2p_peer_bytes_total`: the busiest ones, to bound the series. */
const TOP_PEERS = 10
/** How often the event loop lag probe fires. */
const LAG_PROBE_MS = 500
const CONNECTION_DURATION_BUCKETS = [1, 10, 60, 300, 1800, 3600, 21600, 86400]

export interface NodeMetricsSources {
  events: TypedEvents<Libp2pEvents>
  connectionManager: ConnectionManager
}

/** The transport of a connection, named from its remote address (the way a user reads it). */
export function transportName (addr: Multiaddr): string {
  if (isRelayed(addr)) return 'circuit-relay'
  const names = addr.getComponents().map(c => c.name)
  for (const name of ['webrtc-direct', 'webrtc', 'webtransport', 'quic-v1', 'wss', 'ws', 'memory', 'tcp']) {
    if (names.includes(name)) return name === 'ws' && names.includes('tls') ? 'wss' : name
  }
  return names.at(-1) ?? 'unknown'
}

/** Registers the node's collectors and listeners; returns a function that removes them. */
export function trackNodeMetrics (metrics: Metrics, sources: NodeMetricsSources): () => void {
  const connections = metrics.gauge({ name: 'libp2p_connections', help: 'Open connections', labelNames: ['transport', 'security', 'muxer', 'direction'] })
  const streams = metrics.gauge({ name: 'libp2p_streams', help: 'Open streams', labelNames: ['protocol', 'direction'] })
  const opened = metrics.counter({ name: 'libp2p_connections_opened_total', help: 'Connections opened', labelNames: ['transport', 'direction'] })
  const closed = metrics.counter({ name: 'libp2p_connections_closed_total', help: 'Connections closed', labelNames: ['transport', 'direction'] })
  const duration = metrics.histogram({ name: 'libp2p_connection_duration_seconds', help: 'How long connections stayed open', labelNames: ['transport'], buckets: CONNECTION_DURATION_BUCKETS })
  const protocolBytes = metrics.counter({ name: 'libp2p_protocol_bytes_total', help: 'Stream bytes by protocol (open streams, and streams of closed connections)', labelNames: ['protocol', 'direction'] })
  const peerBytes = metrics.gauge({ name: 'libp2p_peer_bytes', help: `Stream bytes of the ${TOP_PEERS} busiest connected peers`, labelNames: ['peer', 'direction'] })
  const identified = metrics.counter({ name: 'libp2p_identify_total', help: 'Identify results received', labelNames: ['agent'] })
  const lag = metrics.gauge({ name: 'libp2p_event_loop_lag_seconds', help: 'How late the last event loop lag probe fired' })
  const memory = metrics.gauge({ name: 'libp2p_process_memory_bytes', help: 'Process memory', labelNames: ['kind'] })

  // Bytes already counted per stream, so each scrape adds only what is new (a counter never
  // goes down even when the stream is gone); streams drop out of this map with their connection.
  const counted = new WeakMap<Stream, { received: number, sent: number }>()
  const countStreamBytes = (stream: Stream): { received: number, sent: number } => {
    const received = stream.bytesReceived ?? 0
    const sent = stream.bytesSent ?? 0
    const before = counted.get(stream) ?? { received: 0, sent: 0 }
    const protocol = stream.protocol === '' ? 'unnegotiated' : stream.protocol
    if (received > before.received) protocolBytes.inc({ protocol, direction: 'in' }, received - before.received)
    if (sent > before.sent) protocolBytes.inc({ protocol, direction: 'out' }, sent - before.sent)
    counted.set(stream, { received, sent })
    return { received, sent }
  }

  const onOpen = (evt: CustomEvent<Connection>): void => {
    opened.inc({ transport: transportName(evt.detail.remoteAddr), direction: evt.detail.direction })
  }
  const onClose = (evt: CustomEvent<Connection>): void => {
    const connection = evt.detail
    const transport = transportName(connection.remoteAddr)
    closed.inc({ transport, direction: connection.direction })
    duration.observe(((connection.timeline.close ?? Date.now()) - connection.timeline.open) / 1000, { transport })
    for (const stream of connection.streams) countStreamBytes(stream)
  }
  const onIdentify = (evt: CustomEvent<Libp2pEvents['peer:identify']>): void => {
    // the agent's product name only: a full version string per peer would make unbounded series
    identified.inc({ agent: (evt.detail.agentVersion ?? 'unknown').split('/')[0].slice(0, 32) })
  }
  sources.events.addEventListener('connection:open', onOpen)
  sources.events.addEventListener('connection:close', onClose)
  sources.events.addEventListener('peer:identify', onIdentify)

  let expected = Date.now() + LAG_PROBE_MS
  const probe = unrefInterval(() => {
    const now = Date.now()
    lag.set(Math.max(0, now - expected) / 1000)
    expected = now + LAG_PROBE_MS
  }, LAG_PROBE_MS)

  const removeCollector = metrics.addCollector(() => {
    connections.reset()
    streams.reset()
    peerBytes.reset()
    const perPeer = new Map<string, { received: number, sent: number }>()
    for (const connection of sources.connectionManager.getConnections()) {
      connections.inc({ transport: transportName(connection.remoteAddr), security: connection.encryption, muxer: connection.multiplexer, direction: connection.direction })
      const peer = connection.remotePeer.toString()
      const totals = perPeer.get(peer) ?? { received: 0, sent: 0 }
      for (const stream of connection.streams) {
        streams.inc({ protocol: stream.protocol === '' ? 'unnegotiated' : stream.protocol, direction: stream.direction })
        const { received, sent } = countStreamBytes(stream)
        totals.received += received
        totals.sent += sent
      }
      perPeer.set(peer, totals)
    }
    const busiest = [...perPeer].sort((a, b) => (b[1].received + b[1].sent) - (a[1].received + a[1].sent)).slice(0, TOP_PEERS)
    for (const [peer, { received, sent }] of busiest) {
      peerBytes.set(received, { peer, direction: 'in' })
      peerBytes.set(sent, { peer, direction: 'out' })
    }
    const usage = (globalThis as unknown as { process?: { memoryUsage?: () => Record<string, number> } }).process?.memoryUsage?.()
    if (usage !== undefined) {
      for (const kind of ['rss', 'heapUsed', 'heapTotal', 'external']) memory.set(usage[kind] ?? 0, { kind })
    }
  })

  return () => {
    clearInterval(probe)
    removeCollector()
    sources.events.removeEventListener('connection:open', onOpen)
    sources.events.removeEventListener('connection:close', onClose)
    sources.events.removeEventListener('peer:identify', onIdentify)
  }
}
