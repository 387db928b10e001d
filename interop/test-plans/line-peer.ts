/**
 * The test-plans transport-interop contract (contract.ts) in front of any of our line-contract
 * peers (interop/README.md: go-peer, js-peer, py-peer, rust-peer, ts-peer):
 *
 *   transport=quic-v1 is_dialer=false ip=0.0.0.0 redis_addr=127.0.0.1:6379 \
 *     node interop/test-plans/line-peer.ts go
 *
 * It starts the peer with the cell's transport, security and muxer, then plays the role through
 * the peer's commands: the listener publishes the peer's address, the dialer times the peer's
 * `dial` plus one `ping` (the JSON-lines round trips to the local child add well under a
 * millisecond) and prints the result line. This lets the matrix meet go-, js-, py- and
 * rust-libp2p without a test-plans app of each in our tree; ts-libp2p's own app (ts-libp2p.ts)
 * is what the matrix tests, and what would go upstream.
 */
import { performance } from 'node:perf_hooks'
import { spawnPeer, stopAll, type PeerKind } from '../../test/interop/harness.ts'
import { listenAddrFor, pickPublishedAddr, readContractEnv, resultLine } from './contract.ts'
import { RedisClient } from './redis.ts'

const KINDS = ['go', 'js', 'py', 'rust', 'ts']

function log (message: string): void {
  process.stderr.write(`[line-peer adapter] ${message}\n`)
}

async function main (): Promise<number> {
  const kind = process.argv[2]
  if (kind === undefined || !KINDS.includes(kind)) throw new Error(`usage: line-peer.ts ${KINDS.join('|')}`)
  const env = readContractEnv()
  const args: string[] = []
  // the dialer listens too, on the same ip, so that peers which pick their transports from
  // their listen addresses (py-libp2p) can dial the cell's transport, and peers that dial from
  // their listening socket (rust's QUIC) are not bound to loopback when the listener is not
  args.push('--listen', listenAddrFor(env.transport, env.ip))
  if (env.security !== undefined) args.push('--security', env.security)
  if (env.muxer !== undefined) args.push('--muxer', env.muxer)
  const redis = await RedisClient.connect(env.redisAddr, env.timeoutSeconds * 1000)
  const peer = await spawnPeer(kind as PeerKind, args, { readyTimeoutMs: env.timeoutSeconds * 1000, inheritStderr: true })
  try {
    if (env.isDialer) {
      const reply = await redis.command(['BLPOP', env.redisKey, String(env.timeoutSeconds)], env.timeoutSeconds * 1000 + 5000)
      if (!Array.isArray(reply) || typeof reply[1] !== 'string') throw new Error(`no listener address within ${env.timeoutSeconds} s`)
      const timeoutMs = env.timeoutSeconds * 1000
      log(`${kind} dials ${reply[1]}`)
      const start = performance.now()
      const dialed = await peer.commandOk({ cmd: 'dial', addr: reply[1], timeoutMs }, timeoutMs + 5000)
      const pinged = await peer.commandOk({ cmd: 'ping', peer: dialed.peerId, count: 1, timeoutMs }, timeoutMs + 5000)
      const handshakePlusOneRTT = performance.now() - start
      process.stdout.write(`${resultLine(handshakePlusOneRTT, pinged.rtts[0])}\n`)
    } else {
      const published = pickPublishedAddr(peer.addrs, env.transport)
      if (published === undefined) throw new Error(`${kind} peer has no ${env.transport} address among ${peer.addrs.join(', ')}`)
      await redis.command(['RPUSH', env.redisKey, published], 10_000)
      log(`${kind} listens, published ${published}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, env.timeoutSeconds * 1000)
        const stop = (): void => { clearTimeout(timer); resolve() }
        process.once('SIGTERM', stop)
        process.once('SIGINT', stop)
        void peer.exited.then(stop)
      })
    }
    return 0
  } finally {
    redis.close()
    await stopAll(5000)
  }
}

main().then((code) => { process.exit(code) }, (err) => {
  log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
  void stopAll(2000).finally(() => { process.exit(1) })
})
