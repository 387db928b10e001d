/**
 * `ts-libp2p start --metrics HOST:PORT`: the bind address parser and the endpoint's start.
 * The HTTP server module is imported only when the flag is given, so a node without metrics
 * loads nothing of it.
 */
import type { Metrics } from '../interface/metrics.ts'
import { UsageError } from './args.ts'

export interface BindAddress { host: string, port: number }

/** `127.0.0.1:9090`, `[::1]:9090` or `localhost:9090`; port 0 picks a free one. */
export function parseBindAddress (text: string, flag: string): BindAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text)
  const port = m === null ? NaN : Number(m[3])
  if (m === null || !(port >= 0 && port <= 65535)) throw new UsageError(`${flag} needs HOST:PORT (e.g. 127.0.0.1:9464), got '${text}'`)
  return { host: m[1] ?? m[2], port }
}

/** Serves `metrics` at http://HOST:PORT/metrics; resolves with the URL and a close function. */
export async function startMetricsEndpoint (metrics: Metrics, bind: BindAddress): Promise<{ url: string, close: () => Promise<void> }> {
  const { serveMetrics } = await import('../metrics/server.node.ts')
  return await serveMetrics(metrics, bind)
}
