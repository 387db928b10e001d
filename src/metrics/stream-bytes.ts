/**
 * Stream bytes by protocol as a counter, without per-chunk work: streams keep plain byte
 * counts (one add per chunk); this gathers what is new since the last look per protocol, at a
 * scrape (open streams) and once when a stream closes, and hands it to
 * `libp2p_protocol_bytes_total` at the next scrape (a collector; `flush`).
 * One instance per registry, so the switch (closed streams) and the node (open ones) share it.
 */
import type { Counter, Metrics } from '../interface/metrics.ts'
import type { ByteStream } from '../interface/stream.ts'

export interface ByteTotals { received: number, sent: number }

export interface StreamBytes {
  /** Adds the bytes `stream` moved since the last call, to its protocol and to `connection`'s totals. */
  count(stream: ByteStream & { protocol: string }, connection: object): void
  /** The bytes of every stream counted so far on `connection`. */
  connectionTotals(connection: object): ByteTotals
  /** Moves what `count` gathered into the counter (a scrape-time collector does; so may others). */
  flush(): void
}

const perRegistry = new WeakMap<Metrics, StreamBytes>()

export function streamBytesOf (metrics: Metrics): StreamBytes {
  let found = perRegistry.get(metrics)
  if (found === undefined) {
    found = createStreamBytes(metrics.counter({ name: 'libp2p_protocol_bytes_total', help: 'Stream bytes by protocol (multistream-select included)', labelNames: ['protocol', 'direction'] }))
    perRegistry.set(metrics, found)
    metrics.addCollector(found.flush)
  }
  return found
}

function createStreamBytes (counter: Counter): StreamBytes {
  // Weak maps: a closed stream or connection takes its entry with it.
  const counted = new WeakMap<object, ByteTotals>()
  const perConnection = new WeakMap<object, ByteTotals>()
  /** Bytes by protocol not yet in the counter; bounded by the protocols seen between scrapes. */
  const pending = new Map<string, ByteTotals>()
  return {
    flush () {
      for (const [protocol, { received, sent }] of pending) {
        if (received > 0) counter.inc({ protocol, direction: 'in' }, received)
        if (sent > 0) counter.inc({ protocol, direction: 'out' }, sent)
      }
      pending.clear()
    },
    count (stream, connection) {
      const received = stream.bytesReceived ?? 0
      const sent = stream.bytesSent ?? 0
      // Our streams keep what was counted in two fields of their own; a WeakMap entry per
      // stream (its set, and its ephemeron in every GC) cost more than the rest of a stream
      // open's metrics (bench:metrics). Streams of other origins fall back to the map.
      const own = typeof stream.countedReceived === 'number' && typeof stream.countedSent === 'number'
      const before = own ? undefined : counted.get(stream)
      const newIn = received - (own ? stream.countedReceived! : (before?.received ?? 0))
      const newOut = sent - (own ? stream.countedSent! : (before?.sent ?? 0))
      if (newIn <= 0 && newOut <= 0) return
      // gathered per protocol and handed to the counter at a scrape: two labelled increments
      // per stream end (a label key built and hashed for each) were most of what metrics cost
      // a stream open (bench:metrics)
      const protocol = stream.protocol === '' ? 'unnegotiated' : stream.protocol
      const gathered = pending.get(protocol)
      if (gathered === undefined) pending.set(protocol, { received: Math.max(0, newIn), sent: Math.max(0, newOut) })
      else {
        if (newIn > 0) gathered.received += newIn
        if (newOut > 0) gathered.sent += newOut
      }
      if (own) {
        stream.countedReceived = received
        stream.countedSent = sent
      } else if (before === undefined) counted.set(stream, { received, sent })
      else {
        before.received = received
        before.sent = sent
      }
      const totals = perConnection.get(connection)
      if (totals === undefined) perConnection.set(connection, { received: Math.max(0, newIn), sent: Math.max(0, newOut) })
      else {
        totals.received += Math.max(0, newIn)
        totals.sent += Math.max(0, newOut)
      }
    },
    connectionTotals (connection) {
      return perConnection.get(connection) ?? { received: 0, sent: 0 }
    }
  }
}
