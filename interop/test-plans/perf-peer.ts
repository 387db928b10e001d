/**
 * The test-plans perf executable contract (perf/README.md; ours is `ts-libp2p perf`) in front of
 * a line-contract peer (go-peer, js-peer, rust-peer: their `--perf` server and `perf` command):
 *
 *   node interop/test-plans/perf-peer.ts go --run-server --server-address 127.0.0.1:4001
 *   node interop/test-plans/perf-peer.ts go --server-address 127.0.0.1:4001 --transport quic-v1 \
 *     --upload-bytes N --download-bytes M
 *
 * Server: the peer with the zero-seed perf identity listening on /ip4/H/tcp/P and
 * /ip4/H/udp/P/quic-v1 (what go's and rust's perf servers do); it prints
 * `{"peerId":…,"addrs":[…]}` once listening, as ours does, and serves until SIGTERM/SIGINT.
 * Client: the peer dials the server and runs one `perf` exchange; it prints the contract's
 * `final` line, the time including the dial as the contract asks (not the peer's start-up).
 * No `intermediary` lines: the line contract reports only the end.
 */
import { performance } from 'node:perf_hooks'
import { spawnPeer, stopAll, type PeerKind } from '../../test/interop/harness.ts'
import { parsePerfArgs } from './perf-args.ts'

export const PERF_SERVER_ID = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const ZERO_SEED = '00'.repeat(32)
const KINDS = ['go', 'js', 'rust', 'py', 'ts']
const TIMEOUT_MS = 600_000

async function main (): Promise<number> {
  const kind = process.argv[2]
  if (kind === undefined || !KINDS.includes(kind)) throw new Error(`usage: perf-peer.ts ${KINDS.join('|')} [perf options]`)
  const { family, host, port, client } = parsePerfArgs(process.argv.slice(3))
  if (client === undefined) {
    const listen = ['--listen', `/${family}/${host}/tcp/${port}`, '--listen', `/${family}/${host}/udp/${port}/quic-v1`]
    const peer = await spawnPeer(kind as PeerKind, ['--perf', '--key-seed', ZERO_SEED, ...listen], { readyTimeoutMs: TIMEOUT_MS, inheritStderr: true })
    process.stdout.write(`${JSON.stringify({ peerId: peer.peerId, addrs: peer.addrs })}\n`)
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve)
      process.once('SIGINT', resolve)
      void peer.exited.then(() => { resolve() })
    })
    return 0
  }
  const { transport, uploadBytes: upload, downloadBytes: download } = client
  const target = transport === 'tcp' ? `/${family}/${host}/tcp/${port}/p2p/${PERF_SERVER_ID}` : `/${family}/${host}/udp/${port}/quic-v1/p2p/${PERF_SERVER_ID}`
  const peer = await spawnPeer(kind as PeerKind, [], { readyTimeoutMs: TIMEOUT_MS, inheritStderr: true })
  const start = performance.now()
  await peer.commandOk({ cmd: 'dial', addr: target, timeoutMs: 60_000 }, 65_000)
  const reply = await peer.commandOk({ cmd: 'perf', peer: PERF_SERVER_ID, upload, download, timeoutMs: TIMEOUT_MS }, TIMEOUT_MS + 5000)
  const timeSeconds = (performance.now() - start) / 1000
  process.stdout.write(`${JSON.stringify({ type: 'final', timeSeconds, uploadBytes: reply.uploaded, downloadBytes: reply.downloaded })}\n`)
  return 0
}

main().then(async (code) => { await stopAll(5000); process.exit(code) }, async (err) => {
  process.stderr.write(`[perf-peer adapter] failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  await stopAll(2000)
  process.exit(1)
})
