/**
 * `ts-libp2p start --dashboard HOST:PORT` (Node only): serves the live dashboard page at `/` and
 * its server-sent events at `/events` (a snapshot of the node every second). Bound to loopback
 * by default; binding anywhere else needs a token, which every request must carry
 * (`?token=` or `Authorization: Bearer`), or it is refused with 401.
 */
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { timingSafeEqual } from 'node:crypto'
import type { Libp2p } from '../../interface/libp2p.ts'
import { Libp2pError } from '../../util/errors.ts'
import { isLoopbackIp } from '../../util/multiaddr.ts'
import { unrefInterval } from '../../util/timers.ts'
import { DASHBOARD_PAGE } from './page.ts'
import { LogTail } from './log-tail.ts'
import { takeSnapshot } from './snapshot.ts'

/** A dashboard bound beyond loopback without a token: anyone who reaches it would see the node. */
export class DashboardTokenRequiredError extends Libp2pError {
  static readonly code = 'ERR_DASHBOARD_TOKEN_REQUIRED'
  constructor (host: string) {
    super(`the dashboard binds ${host}, which is not loopback: give it a token`, DashboardTokenRequiredError.code)
    this.name = 'DashboardTokenRequiredError'
  }
}

export interface DashboardOptions {
  host?: string
  port?: number
  /** Required unless `host` is a loopback address. */
  token?: string
  /** How often snapshots are sent, in ms (default 1000). */
  intervalMs?: number
  /** Log lines kept for the page's log tail (default 200). */
  logLines?: number
}

export interface DashboardServer {
  /** The page's URL (with the token when there is one). */
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

const MAX_CLIENTS = 32

export async function serveDashboard (node: Libp2p, options: DashboardOptions = {}): Promise<DashboardServer> {
  const host = options.host ?? '127.0.0.1'
  const token = options.token
  if ((token === undefined || token === '') && !(isLoopbackIp(host) || host === 'localhost')) throw new DashboardTokenRequiredError(host)
  const clients = new Set<ServerResponse>()
  const logTail = new LogTail(options.logLines)
  const authorized = (req: IncomingMessage, url: URL): boolean => {
    if (token === undefined || token === '') return true
    const given = url.searchParams.get('token') ?? /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? ''
    const a = Buffer.from(given)
    const b = Buffer.from(token)
    return a.length === b.length && timingSafeEqual(a, b)
  }
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://dashboard')
    if (!authorized(req, url)) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('a token is required\n')
      return
    }
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end()
      return
    }
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'", 'cache-control': 'no-store' }).end(DASHBOARD_PAGE)
    } else if (url.pathname === '/events') {
      if (clients.size >= MAX_CLIENTS) {
        res.writeHead(503).end()
        return
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
      clients.add(res)
      res.write(`data: ${JSON.stringify(takeSnapshot(node, logTail.lines()))}\n\n`)
      req.on('close', () => { clients.delete(res) })
    } else {
      res.writeHead(404).end()
    }
  })
  const timer = unrefInterval(() => {
    if (clients.size === 0) return
    const frame = `data: ${JSON.stringify(takeSnapshot(node, logTail.lines()))}\n\n`
    for (const res of clients) res.write(frame)
  }, options.intervalMs ?? 1000)
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host, port: options.port ?? 0 }, () => { server.off('error', reject); resolve() })
    })
  } catch (err) {
    clearInterval(timer)
    logTail.stop()
    throw err
  }
  const { port } = server.address() as AddressInfo
  const urlHost = host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${urlHost}:${port}/${token !== undefined && token !== '' ? `?token=${encodeURIComponent(token)}` : ''}`,
    port,
    close: async () => {
      clearInterval(timer)
      logTail.stop()
      for (const res of clients) res.end()
      clients.clear()
      server.closeAllConnections()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
}
