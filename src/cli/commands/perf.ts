/**
 * `ts-libp2p perf`: the executable contract of the libp2p perf benchmarks (test-plans perf),
 * so this implementation can stand in for go-libp2p's or js-libp2p's `perf` binary.
 *
 * - Server: `perf --run-server --server-address HOST:PORT` listens on /ip4/HOST/tcp/PORT and
 *   /ip4/HOST/udp/PORT/quic-v1 with
 *   the fixed zero-seed Ed25519 identity every perf server uses (clients cannot learn the peer
 *   id otherwise), prints one JSON line `{"peerId":...,"addrs":[...]}` on stdout once
 *   listening, and serves /perf/1.0.0 until SIGINT/SIGTERM.
 * - Client: `perf --server-address HOST:PORT --transport tcp|quic-v1 --upload-bytes N --download-bytes N`
 *   dials that server and prints one JSON line per second (`intermediary`, per-interval
 *   deltas) and a `final` line with the totals, the time including connection setup.
 */
import { parseArgs } from 'node:util'
import { isIPv4, isIPv6 } from 'node:net'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Command } from '../cli.ts'
import { parsePositiveInt, UsageError } from '../args.ts'
import { stopOnSignal } from '../stop-on-signal.ts'
import { createLibp2p, generateKeyPairFromSeed, peerIdFromPrivateKey, type PrivateKey } from '../../index.ts'
import { MemoryDatastore } from '../../store/memory.ts'
import { tcp } from '../../transport/tcp/index.ts'
import { noise } from '../../security/noise/index.ts'
import { yamux } from '../../muxer/yamux/index.ts'
import { identify } from '../../protocols/identify/index.ts'
import { ping } from '../../protocols/ping/index.ts'
import { perf } from '../../protocols/perf/index.ts'
import { createProgress } from '../progress.ts'
import { INTERRUPTED_EXIT_CODE, interruptOnSignal } from '../interrupt.ts'
import { collectGarbageNow } from '../collect-garbage.ts'
import { warmHandshakeCrypto } from '../warm-crypto.ts'

/** After this long a stop that hangs is abandoned (exit code 1). */

/** The identity of every perf server: Ed25519 from 32 zero bytes (12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN). */
export function perfServerKey (): PrivateKey {
  return generateKeyPairFromSeed('Ed25519', new Uint8Array(32))
}

/** `HOST:PORT` (IPv6 as `[HOST]:PORT`) as `/ip4|ip6/HOST/tcp/PORT`. */
export function serverAddress (text: string): Multiaddr {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text)
  const host = match?.[1] ?? match?.[2]
  const port = Number(match?.[3])
  if (match === null || host === undefined || port > 65535) throw new UsageError(`--server-address must be HOST:PORT with an IP address, got '${text}'`)
  if (isIPv4(host)) return multiaddr(`/ip4/${host}/tcp/${port}`)
  if (isIPv6(host) && match[1] !== undefined) return multiaddr(`/ip6/${host}/tcp/${port}`)
  throw new UsageError(`--server-address must be HOST:PORT with an IP address, got '${text}'`)
}

export const perfCommand: Command = {
  help: `Usage: ts-libp2p perf --run-server --server-address HOST:PORT
       ts-libp2p perf --server-address HOST:PORT [--transport tcp] --upload-bytes N --download-bytes N

The libp2p perf benchmark (/perf/1.0.0), compatible with the test-plans perf runner.

Server (--run-server): listens on HOST:PORT (TCP and UDP/QUIC v1) with the fixed perf server identity
12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN (Ed25519 from 32 zero bytes), prints
{"peerId":"12D3KooW...","addrs":[...]} on stdout once listening, and serves until SIGINT or
SIGTERM. Port 0 picks a free port (see addrs).

Client: connects to the perf server at HOST:PORT, uploads N bytes and downloads N bytes,
printing one JSON line per second and a final one on stdout:
  {"type":"intermediary","timeSeconds":1.0,"uploadBytes":N,"downloadBytes":N}  (per second)
  {"type":"final","timeSeconds":2.3,"uploadBytes":N,"downloadBytes":N}         (totals)
The final time includes connection setup. Exits 0, or 1 with a one-line reason on stderr,
or 130 on Ctrl-C. When stderr is a terminal, a bar there shows the bytes moved (updated with
each report); piped, the JSON lines above are the progress and nothing else is added.

Options:
  --run-server          run the server instead of the client
  --server-address A    HOST:PORT, an IPv4 address or [IPv6]:PORT (required)
  --transport T         tcp or quic-v1 (default tcp); the server listens on both, at
                        /ip4/HOST/tcp/PORT and /ip4/HOST/udp/PORT/quic-v1
  --upload-bytes N      bytes to upload (client; default 0)
  --download-bytes N    bytes to download (client; default 0)
  -h, --help            show this help`,
  async run (argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        'run-server': { type: 'boolean', default: false },
        'server-address': { type: 'string' },
        transport: { type: 'string', default: 'tcp' },
        'upload-bytes': { type: 'string' },
        'download-bytes': { type: 'string' }
      },
      strict: true,
      allowPositionals: false
    })
    if (values['server-address'] === undefined) throw new UsageError('perf needs --server-address HOST:PORT')
    const address = serverAddress(values['server-address'])
    if (values.transport !== 'tcp' && values.transport !== 'quic-v1') throw new UsageError(`unsupported --transport '${values.transport}' (supported: tcp, quic-v1)`)
    if (values['run-server']) {
      if (values['upload-bytes'] !== undefined || values['download-bytes'] !== undefined) throw new UsageError('--upload-bytes and --download-bytes are client options')
      return await runServer(address)
    }
    const uploadBytes = parsePositiveInt(values['upload-bytes'], 'upload-bytes', 0, true)
    const downloadBytes = parsePositiveInt(values['download-bytes'], 'download-bytes', 0, true)
    return await runClient(values.transport === 'quic-v1' ? quicAddress(address) : address, uploadBytes, downloadBytes)
  }
}

/** /ip4/HOST/tcp/PORT as /ip4/HOST/udp/PORT/quic-v1: go's and rust's perf servers listen on both. */
function quicAddress (address: Multiaddr): Multiaddr {
  const [, family, host, , port] = address.toString().split('/')
  return multiaddr(`/${family}/${host}/udp/${port}/quic-v1`)
}

async function runServer (address: Multiaddr): Promise<number> {
  // QUIC is loaded only here and for a quic-v1 client: the TCP client's cold start stays lean.
  const { quic } = await import('../../transport/quic/index.ts')
  const node = await createLibp2p({
    privateKey: perfServerKey(),
    datastore: new MemoryDatastore(),
    transports: [tcp(), quic()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    addresses: { listen: [address.toString(), quicAddress(address).toString()] },
    services: { identify: identify(), ping: ping(), perf: perf() },
    start: false
  })
  const stopped = stopOnSignal(async () => { await node.stop() }, 'perf server')
  try {
    await node.start()
  } catch (err) {
    await node.stop().catch(() => {})
    throw err
  }
  process.stdout.write(JSON.stringify({ peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map(a => a.toString()) }) + '\n')
  return await stopped
}

async function runClient (address: Multiaddr, uploadBytes: number, downloadBytes: number): Promise<number> {
  const serverId = peerIdFromPrivateKey(perfServerKey())
  const target = address.encapsulate(`/p2p/${serverId.toString()}`)
  // Exactly what the measurement needs (the contract's client is a fresh process, and its time
  // includes starting up): TCP, Noise, Yamux, no runtime defaults to load; or QUIC alone.
  const overQuic = address.toString().includes('/quic-v1')
  const transports = overQuic ? [(await import('../../transport/quic/index.ts')).quic()] : [tcp()]
  const node = await createLibp2p({
    transports,
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    datastore: new MemoryDatastore(),
    addresses: { listen: [] },
    services: { perf: perf() },
    start: false
  })
  // Ctrl-C aborts the transfer: the node stops and the command exits 130
  const interrupt = interruptOnSignal()
  // a bar on a terminal only: piped, the contract's own JSON lines are the progress
  const bar = process.stderr.isTTY === true ? createProgress({ label: 'perf', unit: 'bytes', total: uploadBytes + downloadBytes }) : undefined
  try {
    await node.start()
    // the contract's clock starts at the dial: node:crypto's first-use set-up and start-up's
    // garbage are dealt with before it
    await warmHandshakeCrypto()
    collectGarbageNow()
    process.stderr.write(`perf: ${target.toString()}, upload ${uploadBytes} bytes, download ${downloadBytes} bytes\n`)
    let moved = 0
    for await (const output of node.services.perf.measurePerformance(target, uploadBytes, downloadBytes, { signal: interrupt.signal })) {
      if (output.type === 'intermediary') moved += output.uploadBytes + output.downloadBytes
      else bar?.done()
      // a report on the same terminal as the bar starts on a clean line; the bar redraws after it
      if (bar !== undefined && process.stdout.isTTY === true) bar.clearLine?.()
      process.stdout.write(JSON.stringify(output) + '\n')
      bar?.update(moved)
    }
    return 0
  } catch (err) {
    bar?.done()
    if (interrupt.signal.aborted) {
      process.stderr.write('ts-libp2p: perf interrupted\n')
      return INTERRUPTED_EXIT_CODE
    }
    throw err
  } finally {
    bar?.done()
    interrupt.dispose()
    await node.stop()
  }
}
