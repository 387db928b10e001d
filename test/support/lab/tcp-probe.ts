/**
 * A tiny TCP tool the lab's own tests run inside namespaces, to prove what each router does.
 *   serve PORT                          prints {"listening":PORT}, then {"remote":"ip:port"} per connection
 *   connect HOST PORT [LOCAL_PORT] [MS] prints {"ok":true,"ms":N,"local":"ip:port"} or {"ok":false,"error":"CODE"}
 */
import { createConnection, createServer } from 'node:net'

const [mode, ...args] = process.argv.slice(2)
if (mode === 'serve') {
  const server = createServer(socket => {
    console.log(JSON.stringify({ remote: `${socket.remoteAddress}:${socket.remotePort}` }))
    socket.end()
  })
  server.listen(Number(args[0]), '0.0.0.0', () => { console.log(JSON.stringify({ listening: Number(args[0]) })) })
} else if (mode === 'connect') {
  const started = performance.now()
  const socket = createConnection({ host: args[0], port: Number(args[1]), localPort: args[2] !== undefined && args[2] !== '0' ? Number(args[2]) : undefined })
  const timer = setTimeout(() => { finish({ ok: false, error: 'TIMEOUT' }) }, Number(args[3] ?? 5000))
  const finish = (result: object): void => {
    clearTimeout(timer)
    console.log(JSON.stringify(result))
    socket.destroy()
  }
  socket.once('connect', () => { finish({ ok: true, ms: Math.round(performance.now() - started), local: `${socket.localAddress}:${socket.localPort}` }) })
  socket.once('error', (err: NodeJS.ErrnoException) => { finish({ ok: false, error: err.code ?? err.message }) })
} else {
  console.error('usage: tcp-probe.ts serve PORT | connect HOST PORT [LOCAL_PORT] [TIMEOUT_MS]')
  process.exitCode = 2
}
