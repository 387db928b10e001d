/**
 * The node's own metrics: connections by transport, security, muxer and direction; streams
 * and bytes by protocol; bytes of the busiest peers; identify outcomes; event loop lag and
 * memory. Live state (open connections and their streams) is read when Prometheus scrapes;
 * only connection opens/closes and identify results are counted as they happen, once each.
 * createLibp2p loads this module (and the registry) only for a node with metrics on.
 */
import type { Connection } from '../interface/connection.ts'
import type { ConnectionManager } from '../interface/connection-manager.ts'
import type { Libp2pEvents, TypedEvents } from '../interface/events.ts'
import type { Metrics } from '../interface/metrics.ts'
import type { ResourceScope } from '../switch/resource-manager/scope.ts'
import { MetricsRegistry } from '../metrics/registry.ts'
import { transportName } from '../metrics/labels.ts'
import { streamBytesOf } from '../metrics/stream-bytes.ts'
import { unrefInterval } from '../util/timers.ts'

/** Peers listed by `libp2p_peer_bytes_total`: the busiest ones, to bound the series. */
const TOP_PEERS = 10
/** How often the event loop lag probe fires. */
const LAG_PROBE_MS = 500
const CONNECTION_DURATION_BUCKETS = [1, 10, 60, 300, 1800, 3600, 21600, 86400]

export interface NodeMetricsSources {
  events: TypedEvents<Libp2pEvents>
  connectionManager: ConnectionManager
  /** The system and transient scopes (absent when the resource manager is off). */
  resourceScopes?: () => ResourceScope[]
}

/** The node's own registry, what `metrics: true` asks for. */
export function createMetricsRegistry (): Metrics {
  return new MetricsRegistry()
}

/** Wraps a resource manager's `onRefusal` so refusals are counted by scope kind and limit. */
export function countResourceRefusals<E extends { scope: string, limit: string }> (metrics: Metrics, next?: (err: E) => void): (err: E) => void {
  const refusals = metrics.counter({ name: 'libp2p_resource_refusals_total', help: 'Reservations the resource manager refused, by scope kind (system, transient, peer, protocol, ip...) and limit', labelNames: ['scope', 'limit'] })
  return err => {
    // 'peer:<id>' or 'protocol:/x' become 'peer' and 'protocol': a peer id per series would be unbounded
    refusals.inc({ scope: err.scope.split(':')[0], limit: err.limit })
    next?.(err)
  }
}

/** Registers the node's collectors and listeners; returns a function that removes them. */
export function trackNodeMetrics (metrics: Metrics, sources: NodeMetricsSources): () => void {
  const connections = metrics.gauge({ name: 'libp2p_connections', help: 'Open connections', labelNames: ['transport', 'security', 'muxer', 'direction'] })
  const streams = metrics.gauge({ name: 'libp2p_streams', help: 'Open streams', labelNames: ['protocol', 'direction'] })
  const opened = metrics.counter({ name: 'libp2p_connections_opened_total', help: 'Connections opened', labelNames: ['transport', 'direction'] })
  const closed = metrics.counter({ name: 'libp2p_connections_closed_total', help: 'Connections closed', labelNames: ['transport', 'direction'] })
  const duration = metrics.histogram({ name: 'libp2p_connection_duration_seconds', help: 'How long connections stayed open', labelNames: ['transport'], buckets: CONNECTION_DURATION_BUCKETS })
  const peerBytes = metrics.gauge({ name: 'libp2p_peer_bytes', help: `Stream bytes over the open connections of the ${TOP_PEERS} busiest connected peers`, labelNames: ['peer', 'direction'] })
  const identified = metrics.counter({ name: 'libp2p_identify_total', help: 'Identify results received', labelNames: ['agent'] })
  const lag = metrics.gauge({ name: 'libp2p_event_loop_lag_seconds', help: 'How late the last event loop lag probe fired' })
  const resourceUsage = metrics.gauge({ name: 'libp2p_resource_usage', help: 'What the node-wide resource scopes hold (memory in bytes)', labelNames: ['scope', 'resource'] })
  const resourceLimit = metrics.gauge({ name: 'libp2p_resource_limit', help: 'The limits of the node-wide resource scopes (memory in bytes)', labelNames: ['scope', 'resource'] })
  const reservations = metrics.gauge({ name: 'libp2p_relay_reservations', help: 'Our circuit relay reservations that are held' })
  const reservationEvents = metrics.counter({ name: 'libp2p_relay_reservation_events_total', help: 'Our circuit relay reservations made, refreshed or lost', labelNames: ['status'] })
  const memory = metrics.gauge({ name: 'libp2p_process_memory_bytes', help: 'Process memory', labelNames: ['kind'] })

  const streamBytes = streamBytesOf(metrics)

  const onOpen = (evt: CustomEvent<Connection>): void => {
    opened.inc({ transport: transportName(evt.detail.remoteAddr), direction: evt.detail.direction })
  }
  const onClose = (evt: CustomEvent<Connection>): void => {
    const connection = evt.detail
    const transport = transportName(connection.remoteAddr)
    closed.inc({ transport, direction: connection.direction })
    duration.observe(((connection.timeline.close ?? Date.now()) - connection.timeline.open) / 1000, { transport })
    for (const stream of connection.streams) streamBytes.count(stream, connection)
  }
  const onIdentify = (evt: CustomEvent<Libp2pEvents['peer:identify']>): void => {
    // the agent's product name only: a full version string per peer would make unbounded series
    identified.inc({ agent: (evt.detail.agentVersion ?? 'unknown').split('/')[0].slice(0, 32) })
  }
  const held = new Set<string>()
  reservations.set(0)
  const onReservation = (evt: CustomEvent<Libp2pEvents['relay:reservation']>): void => {
    reservationEvents.inc({ status: evt.detail.status })
    if (evt.detail.status === 'lost') held.delete(evt.detail.relay.toString())
    else held.add(evt.detail.relay.toString())
    reservations.set(held.size)
  }
  sources.events.addEventListener('relay:reservation', onReservation)
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
        streamBytes.count(stream, connection)
      }
      const moved = streamBytes.connectionTotals(connection)
      totals.received += moved.received
      totals.sent += moved.sent
      perPeer.set(peer, totals)
    }
    streamBytes.flush() // this scrape's counts of open streams, not the next one's
    const busiest = [...perPeer].sort((a, b) => (b[1].received + b[1].sent) - (a[1].received + a[1].sent)).slice(0, TOP_PEERS)
    for (const [peer, { received, sent }] of busiest) {
      peerBytes.set(received, { peer, direction: 'in' })
      peerBytes.set(sent, { peer, direction: 'out' })
    }
    for (const scope of sources.resourceScopes?.() ?? []) {
      for (const [resource, value] of Object.entries(scope.usage) as Array<[string, number]>) resourceUsage.set(value, { scope: scope.name, resource })
      for (const [resource, value] of Object.entries(scope.limits) as Array<[string, number | undefined]>) {
        if (value !== undefined && Number.isFinite(value)) resourceLimit.set(value, { scope: scope.name, resource })
      }
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
    sources.events.removeEventListener('relay:reservation', onReservation)
  }
}
