/**
 * One side of a TCP hole punch with plain sockets or the project's TCP transport, run inside a
 * lab host. Prints one JSON line: {"ok":true,"ms":N,"got":"..."} or {"ok":false,"error":"..."}.
 *   punch-probe.ts transport LOCAL_PORT REMOTE_IP REMOTE_PORT   TcpTransport({ dialPort: LOCAL_PORT }).dial
 *     (prints {"ready":true} and dials when a line arrives on stdin, so two hosts start together)
 *   punch-probe.ts listen-port REMOTE_IP REMOTE_PORT PORT       listen on PORT, then dial out from it
 *   punch-probe.ts reuse-port REMOTE_IP REMOTE_PORT PORT        the same with listen({ reusePort: true })
 */
import { connect, createServer } from 'node:net'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { multiaddr } from '@multiformats/multiaddr'
import { TcpTransport } from '../../../src/transport/tcp/index.ts'

const [mode, ...args] = process.argv.slice(2)
let started = performance.now()
const report = (result: object): void => { console.log(JSON.stringify({ ...result, ms: Math.round(performance.now() - started) })) }

if (mode === 'transport') {
  const [localPort, ip, port] = args
  const transport = new TcpTransport({ dialPort: Number(localPort), dialTimeout: 3000 })
  const lines = createInterface({ input: process.stdin })
  console.log(JSON.stringify({ ready: true }))
  await once(lines, 'line')
  lines.close()
  started = performance.now()
  try {
    const conn = await transport.dial(multiaddr(`/ip4/${ip}/tcp/${port}`))
    const local = conn.localAddr?.toString()
    await conn.write(new TextEncoder().encode(`hello from ${local}`))
    const chunk = await conn.read()
    report({ ok: true, local, got: chunk === null ? null : new TextDecoder().decode(chunk) })
    await conn.close()
  } catch (err) {
    report({ ok: false, error: (err as Error).message })
  }
} else if (mode === 'listen-port' || mode === 'reuse-port') {
  const [ip, port, ownPort] = args
  const server = createServer()
  await new Promise<void>(resolve => { server.listen({ port: Number(ownPort), host: '0.0.0.0', reusePort: mode === 'reuse-port' }, resolve) })
  const socket = connect({ host: ip, port: Number(port), localPort: Number(ownPort) })
  socket.once('connect', () => { report({ ok: true }); socket.destroy(); server.close() })
  socket.once('error', (err: NodeJS.ErrnoException) => { report({ ok: false, error: err.code ?? err.message }); server.close() })
} else {
  console.error('usage: see the header of punch-probe.ts')
  process.exitCode = 2
}
