/**
 * `ts-libp2p/metrics-server` (Node only): serves a registry's exposition at `/metrics` for
 * Prometheus to scrape. Any other path is 404, any method but GET/HEAD 405.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Metrics } from '../interface/metrics.ts'
import { PROMETHEUS_CONTENT_TYPE } from './registry.ts'

export interface MetricsServerOptions {
  /** Default 127.0.0.1: metrics reveal peers and addresses, so exposing them is a choice. */
  host?: string
  /** Default 0 (a free port; read it from the result). */
  port?: number
  signal?: AbortSignal
}

export interface MetricsServer {
  /** `http://host:port/metrics` */
  readonly url: string
  readonly host: string
  readonly port: number
  close(): Promise<void>
}

export async function serveMetrics (metrics: Metrics, options: MetricsServerOptions = {}): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; metrics are at /metrics\n')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end()
      return
    }
    const body = metrics.expose()
    res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) })
    res.end(req.method === 'HEAD' ? undefined : body)
  })
  // Prometheus keeps its scrape connection alive; a short idle timeout lets close() finish promptly.
  server.keepAliveTimeout = 5000
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port: options.port ?? 0, signal: options.signal }, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const urlHost = host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${urlHost}:${port}/metrics`,
    host,
    port,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
}
