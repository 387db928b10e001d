/**
 * The perf service (`/perf/1.0.0`, specs perf/perf.md): a server that lets peers measure
 * throughput against this node, and `measurePerformance()`, the client that reports progress
 * the way the libp2p perf benchmarks (test-plans perf) print it.
 *
 * Off by default, as the spec asks (a client can make the server do a lot of work): add
 * `services: { perf: perf() }` only on nodes meant to be measured.
 *
 * ```ts
 * for await (const output of node.services.perf.measurePerformance(addr, 10 << 20, 10 << 20)) {
 *   console.log(JSON.stringify(output)) // {"type":"intermediary",...} each second, then "final"
 * }
 * ```
 */
import type { AbortOptions } from '../../interface/common.ts'
import type { Connection } from '../../interface/connection.ts'
import type { NodeComponents, Startable } from '../../interface/components.ts'
import type { Stream } from '../../interface/stream.ts'
import type { Logger } from '../../interface/logger.ts'
import { AbortError, TimeoutError } from '../../util/errors.ts'
import { isConnection, type ProtocolTarget } from '../connection-target.ts'
import { perfOverStream, type PerfCounters } from './client.ts'
import { servePerf } from './server.ts'
import { checkPerfByteCount, PERF_PROTOCOL } from './wire.ts'
import { withDeadline } from '../../util/deadline.ts'

export interface PerfOptions {
  protocol?: string
  /** Concurrent inbound perf streams per connection (default 32). */
  maxInboundStreams?: number
  /** Concurrent outbound perf streams per connection (default 32). */
  maxOutboundStreams?: number
  /** Serve and measure over limited (relayed) connections (default false). */
  runOnLimitedConnection?: boolean
  /** An inbound stream is aborted after this long without progress, in ms (default 60 s). */
  idleTimeout?: number
  /** Budget for opening the connection and the stream of a measurement, in ms (default 30 s). */
  setupTimeout?: number
  /** A measurement fails when no byte moved either way for this long, in ms (default 60 s). */
  stallTimeout?: number
  /** How often `measurePerformance` reports progress, in ms (default 1000, as the benchmarks expect). */
  reportInterval?: number
}

export interface MeasurePerformanceOptions extends AbortOptions {
  /**
   * Measure over an open connection to the peer when there is one (default false: open a
   * new connection, whose setup time counts in the final report, and close it afterwards).
   * A Connection given as target is always used as is.
   */
  reuseExistingConnection?: boolean
}

/**
 * One progress report. `intermediary` reports carry the bytes moved and the seconds elapsed
 * since the previous report; the one `final` report carries the totals, its time counting
 * from the call (connection setup included) to the last byte.
 */
export interface PerfOutput {
  type: 'intermediary' | 'final'
  timeSeconds: number
  uploadBytes: number
  downloadBytes: number
}

export type PerfComponents = Pick<NodeComponents, 'registrar' | 'connectionManager' | 'logger'>

export class PerfService implements Startable {
  readonly serviceCapabilities: readonly string[] = ['@libp2p/perf']
  readonly protocol: string
  readonly #components: PerfComponents
  readonly #log: Logger
  readonly #options: PerfOptions
  readonly #inbound = new Set<Stream>()

  constructor (components: PerfComponents, options: PerfOptions = {}) {
    this.#components = components
    this.#options = options
    this.#log = components.logger('perf')
    this.protocol = options.protocol ?? PERF_PROTOCOL
  }

  start (): void {
    const idleTimeout = this.#options.idleTimeout ?? 60_000
    this.#components.registrar.handle(this.protocol, (stream, connection) => {
      this.#inbound.add(stream)
      servePerf(stream, { idleTimeout }).then((result) => {
        this.#log('served %s: received %d bytes, sent %d', connection.remotePeer, result.received, result.sent)
      }, (err: Error) => {
        this.#log('perf stream from %s failed: %s', connection.remotePeer, err.message)
      }).finally(() => { this.#inbound.delete(stream) })
    }, {
      maxInboundStreams: this.#options.maxInboundStreams ?? 32,
      maxOutboundStreams: this.#options.maxOutboundStreams ?? 32,
      runOnLimitedConnection: this.#options.runOnLimitedConnection ?? false
    })
  }

  stop (): void {
    this.#components.registrar.unhandle(this.protocol)
    for (const stream of this.#inbound) stream.abort(new AbortError('the perf service stopped'))
    this.#inbound.clear()
  }

  /**
   * Uploads `uploadBytes` to the target's perf server and downloads `downloadBytes` back,
   * yielding an `intermediary` report every `reportInterval` ms and a `final` one at the end.
   * Throws a typed error if the transfer fails or the server sends back a different number of
   * bytes (UnexpectedEOFError for fewer, InvalidMessageError for more). Breaking out of the
   * loop early aborts the transfer.
   */
  async * measurePerformance (target: ProtocolTarget, uploadBytes: number, downloadBytes: number, options: MeasurePerformanceOptions = {}): AsyncGenerator<PerfOutput, void, undefined> {
    checkPerfByteCount(uploadBytes, 'uploadBytes')
    checkPerfByteCount(downloadBytes, 'downloadBytes')
    options.signal?.throwIfAborted()
    const reportInterval = this.#options.reportInterval ?? 1000
    const stallTimeout = this.#options.stallTimeout ?? 60_000
    const started = performance.now()
    const counters: PerfCounters = { uploadBytes: 0, downloadBytes: 0 }
    const cancel = new AbortController()
    const signal = options.signal === undefined ? cancel.signal : AbortSignal.any([options.signal, cancel.signal])
    let ownConnection: Connection | undefined

    let settled = false
    let wake: (() => void) | undefined
    const transfer = (async () => {
      const setupTimeout = this.#options.setupTimeout ?? 30_000
      const stream = await withDeadline(setupTimeout, signal, `perf connection setup timed out after ${setupTimeout} ms`, async (setupSignal) => {
        const connection = await this.#connect(target, options, setupSignal, (c) => { ownConnection = c })
        // Negotiated fully (one round trip), not lazily like ping: a small perf exchange sends
        // proposal, request, upload and FIN back to back, and a js-libp2p server (3.x) resets or
        // stalls the stream when that FIN arrives while its multistream-select handler is still
        // negotiating. go and rust servers take the lazy form. test/interop/perf-lazy-js.test.ts.
        return await connection.newStream(this.protocol, { signal: setupSignal, runOnLimitedConnection: this.#options.runOnLimitedConnection })
      })
      await perfOverStream(stream, uploadBytes, downloadBytes, counters, { signal })
    })()
    const onSettled = (): void => {
      settled = true
      wake?.()
    }
    transfer.then(onSettled, onSettled)

    try {
      let lastReport = started
      let lastProgress = started
      let reportedUpload = 0
      let reportedDownload = 0
      while (!settled) {
        let timer: ReturnType<typeof setTimeout> | undefined
        await new Promise<void>((resolve) => {
          wake = resolve
          timer = setTimeout(resolve, Math.max(0, lastReport + reportInterval - performance.now()))
        })
        clearTimeout(timer)
        wake = undefined
        if (settled) break
        const now = performance.now()
        const up = counters.uploadBytes - reportedUpload
        const down = counters.downloadBytes - reportedDownload
        if (up > 0 || down > 0) {
          lastProgress = now
        } else if (now - lastProgress >= stallTimeout) {
          cancel.abort(new TimeoutError(`perf transfer made no progress for ${stallTimeout} ms`))
        }
        yield { type: 'intermediary', timeSeconds: (now - lastReport) / 1000, uploadBytes: up, downloadBytes: down }
        lastReport = now
        reportedUpload += up
        reportedDownload += down
      }
      await transfer
      yield { type: 'final', timeSeconds: (performance.now() - started) / 1000, uploadBytes: counters.uploadBytes, downloadBytes: counters.downloadBytes }
    } finally {
      if (!settled) {
        cancel.abort(new AbortError('the perf measurement was abandoned'))
        await transfer.catch(() => {})
      }
      if (ownConnection !== undefined) await ownConnection.close().catch(() => {})
    }
  }

  async #connect (target: ProtocolTarget, options: MeasurePerformanceOptions, signal: AbortSignal, onOpened: (c: Connection) => void): Promise<Connection> {
    if (isConnection(target)) return target
    const reuse = options.reuseExistingConnection === true
    const connection = await this.#components.connectionManager.openConnection(target, { signal, force: !reuse })
    if (!reuse) onOpened(connection)
    return connection
  }
}

/** Service factory: `services: { perf: perf() }` (serves `/perf/1.0.0`; off by default). */
export function perf (options: PerfOptions = {}): (components: PerfComponents) => PerfService {
  return (components) => new PerfService(components, options)
}
