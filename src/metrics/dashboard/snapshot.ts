/**
 * What the live dashboard shows, as one JSON snapshot: identity and addresses (with their
 * reachability), connections (with their RTT), cumulative bytes per protocol, the DHT's
 * buckets and recent lookups, pubsub peers and their scores, the log tail and the node's other
 * metric samples (resources, relay). Built once per tick, never on a data path. Services are
 * found by the diagnostics they offer (interface/diagnostics.ts), not by class.
 */
import type { DhtBucketFill, DhtDiagnostics, DhtQueryRecord, PubSubDiagnostics, PubSubPeerDiagnostics } from '../../interface/diagnostics.ts'
import type { Libp2p } from '../../interface/libp2p.ts'
import { reachabilityOf } from '../../util/multiaddr.ts'
import { transportName } from '../labels.ts'

export interface DashboardConnection {
  id: string
  peer: string
  addr: string
  transport: string
  security: string
  muxer: string
  direction: string
  ageSeconds: number
  /** Latest RTT in ms (ping, else the muxer's own), rounded to 0.01; null before one is measured. */
  rttMs: number | null
  limited: boolean
  streams: number
  protocols: string[]
}

export interface DashboardSnapshot {
  time: number
  peerId: string
  addrs: Array<{ addr: string, reachability: string }>
  connections: DashboardConnection[]
  /** protocol -> cumulative bytes in and out */
  bandwidth: Record<string, { in: number, out: number }>
  /** Other `libp2p_` samples: `name{labels}` -> value (gauges and counters, no histograms). */
  samples: Record<string, number>
  /** The DHT's non-empty buckets and latest lookups (absent without a DHT). */
  dht?: { buckets: DhtBucketFill[], queries: DhtQueryRecord[] }
  /** Pubsub peers with topics, meshes and scores (absent without a router that offers them). */
  pubsub?: PubSubPeerDiagnostics[]
  /** The latest log lines, oldest first. */
  log: string[]
}

function isDhtDiagnostics (value: unknown): value is DhtDiagnostics {
  return typeof (value as Partial<DhtDiagnostics> | null)?.routingBuckets === 'function' && typeof (value as Partial<DhtDiagnostics>).recentQueries === 'function'
}

function isPubSubDiagnostics (value: unknown): value is PubSubDiagnostics {
  return typeof (value as Partial<PubSubDiagnostics> | null)?.peerDiagnostics === 'function'
}

const SAMPLE_LINE = /^(libp2p_[a-z_]+)(\{[^}]*\})? (\S+)$/
const SHOWN = /^libp2p_(kad_dht_routing_table|kad_dht_lookups_total|gossipsub_(mesh_peers|peers|messages_total|lowest_score|peers_by_score)|resource_(usage|limit|refusals_total)|relay_|event_loop_lag|process_memory|dials_total)/

export function takeSnapshot (node: Libp2p, log: readonly string[] = []): DashboardSnapshot {
  const now = Date.now()
  const connections = node.getConnections().map(c => ({
    id: c.id,
    peer: c.remotePeer.toString(),
    addr: c.remoteAddr.toString(),
    transport: transportName(c.remoteAddr),
    security: c.encryption,
    muxer: c.multiplexer,
    direction: c.direction,
    ageSeconds: Math.round((now - c.timeline.open) / 1000),
    rttMs: c.rtt === undefined ? null : Math.round(c.rtt * 100) / 100,
    limited: c.limits !== undefined,
    streams: c.streams.length,
    protocols: [...new Set(c.streams.map(s => s.protocol).filter(p => p !== ''))]
  }))
  const bandwidth: Record<string, { in: number, out: number }> = {}
  const samples: Record<string, number> = {}
  for (const line of (node.metrics?.expose() ?? '').split('\n')) {
    const m = SAMPLE_LINE.exec(line)
    if (m === null) continue
    if (m[1] === 'libp2p_protocol_bytes_total') {
      const protocol = /protocol="([^"]*)"/.exec(m[2] ?? '')?.[1] ?? '?'
      const direction = /direction="(in|out)"/.exec(m[2] ?? '')?.[1] as 'in' | 'out' | undefined
      if (direction === undefined) continue
      bandwidth[protocol] ??= { in: 0, out: 0 }
      bandwidth[protocol][direction] = Number(m[3])
    } else if (SHOWN.test(m[1])) {
      samples[m[1] + (m[2] ?? '')] = Number(m[3])
    }
  }
  let dht: DashboardSnapshot['dht']
  let pubsub: DashboardSnapshot['pubsub']
  for (const service of Object.values(node.services as Record<string, unknown>)) {
    if (dht === undefined && isDhtDiagnostics(service)) dht = { buckets: service.routingBuckets(), queries: service.recentQueries() }
    if (pubsub === undefined && isPubSubDiagnostics(service)) pubsub = service.peerDiagnostics()
  }
  return {
    time: now,
    peerId: node.peerId.toString(),
    addrs: node.getMultiaddrs().map(a => ({ addr: a.toString(), reachability: reachabilityOf(a) })),
    connections,
    bandwidth,
    samples,
    ...(dht === undefined ? {} : { dht }),
    ...(pubsub === undefined ? {} : { pubsub }),
    log: [...log]
  }
}
