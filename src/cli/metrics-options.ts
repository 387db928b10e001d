/**
 * `ts-libp2p start --metrics HOST:PORT` and `--dashboard HOST:PORT`: the bind address parser and
 * the servers' start. Their modules are imported only when a flag is given, so a node without
 * them loads nothing of either.
 */
import type { Libp2p } from '../interface/libp2p.ts'
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

/** Serves the live dashboard (page at `/`, server-sent events at `/events`); a non-loopback bind needs `token`. */
export async function startDashboard (node: Libp2p, bind: BindAddress, token: string | undefined): Promise<{ url: string, close: () => Promise<void> }> {
  const { serveDashboard } = await import('../metrics/dashboard/server.node.ts')
  return await serveDashboard(node, { ...bind, token })
}
