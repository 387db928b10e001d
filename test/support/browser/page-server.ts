/**
 * Serves a test page from http://127.0.0.1 (a secure context: WebCrypto, WebTransport and
 * IndexedDB behave as on a real site): `/` is a small HTML page that imports `/entry.js` (the
 * bundle), exposes the entry module's exports as `globalThis.entry` and records in
 * `globalThis.entryState` whether it loaded ('ready') or threw ('error: ...').
 *
 * In-process with `startPageServer()`; inside a network namespace it runs as its own process
 * (`node page-server.ts DIR`, where DIR holds entry.js), printing `listening <port>` when ready.
 */
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>ts-libp2p test page</title></head>
<body><script type="module">
try {
  globalThis.entry = await import('/entry.js')
  globalThis.entryState = 'ready'
} catch (err) {
  globalThis.entryState = 'error: ' + (err && err.stack ? err.stack : String(err))
}
</script></body></html>
`

export interface PageServer {
  /** http://127.0.0.1:PORT */
  readonly origin: string
  close(): Promise<void>
}

/** Serves PAGE_HTML at / and `bundle` at /entry.js on 127.0.0.1 (an ephemeral port). */
export async function startPageServer (bundle: string, port = 0): Promise<PageServer> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname
    if (path === '/' || path === '/index.html') send(res, 200, 'text/html; charset=utf-8', PAGE_HTML)
    else if (path === '/entry.js') send(res, 200, 'text/javascript; charset=utf-8', bundle)
    else send(res, 404, 'text/plain', 'not found')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('page server has no TCP address')
  return { origin: `http://127.0.0.1:${address.port}`, close: async () => { await closeServer(server) } }
}

function send (res: import('node:http').ServerResponse, status: number, type: string, body: string): void {
  // no-store: a reload must fetch the page again, never a cached bundle from an earlier test
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' })
  res.end(body)
}

async function closeServer (server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>(resolve => { server.close(() => { resolve() }) })
}

// As a process inside a namespace: serve DIR/entry.js until killed.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2]
  const server = await startPageServer(readFileSync(join(dir, 'entry.js'), 'utf8'))
  console.log(`listening ${new URL(server.origin).port}`)
  process.on('SIGTERM', () => { void server.close().then(() => process.exit(0)) })
}
