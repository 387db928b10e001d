/**
 * ts-libp2p's test app for libp2p/test-plans transport-interop: run it with the harness's
 * environment (see contract.ts) and it plays the listener or the dialer of one cell.
 *
 *   transport=tcp security=noise muxer=yamux is_dialer=false ip=0.0.0.0 \
 *     redis_addr=127.0.0.1:6379 node interop/test-plans/ts-libp2p.ts      # listener
 *   ... is_dialer=true ...                                                 # dialer
 *
 * The dialer prints exactly one line on stdout, the result JSON; everything else goes to
 * stderr. Exit code 0 on success, 1 on any failure (the harness marks the cell failed).
 * The listener stays up until SIGTERM/SIGINT (the harness's `compose down`) or the timeout.
 * Transports: tcp and ws (with noise or tls, yamux or mplex), quic-v1, webtransport and
 * webrtc-direct (their own security and multiplexing).
 */
import { performance } from 'node:perf_hooks'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from '../../src/index.ts'
import type { Libp2p } from '../../src/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { ping, type PingService } from '../../src/protocols/ping/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { tls } from '../../src/security/tls/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { mplex } from '../../src/muxer/mplex/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { webSockets } from '../../src/transport/websockets/index.ts'
import { quic } from '../../src/transport/quic/index.ts'
import { webTransport } from '../../src/transport/webtransport/index.ts'
import { webRTCDirect } from '../../src/transport/webrtc/webrtc-direct.ts'
import { listenAddrFor, pickPublishedAddr, readContractEnv, resultLine, type ContractEnv } from './contract.ts'
import { RedisClient } from './redis.ts'

type PingNode = Libp2p<{ ping: PingService }>

function log (message: string): void {
  process.stderr.write(`[ts-libp2p test app] ${message}\n`)
}

function transportFor (env: ContractEnv): any {
  switch (env.transport) {
    case 'tcp': return tcp()
    case 'ws': return webSockets()
    case 'quic-v1': return quic()
    case 'webtransport': return webTransport()
    case 'webrtc-direct': return webRTCDirect()
  }
}

async function createNode (env: ContractEnv): Promise<PingNode> {
  const node = await createLibp2p({
    // one peer to meet, nothing else: no public bootstrap list, DHT or mDNS
    offline: true,
    addresses: { listen: env.isDialer ? [] : [listenAddrFor(env.transport, env.ip)] },
    transports: [transportFor(env)],
    ...(env.security !== undefined ? { connectionEncrypters: [env.security === 'tls' ? tls() : noise()] } : {}),
    ...(env.muxer !== undefined ? { streamMuxers: [env.muxer === 'mplex' ? mplex() : yamux()] } : {}),
    services: { identify: identify(), ping: ping() }
  })
  return node as unknown as PingNode
}

async function runListener (env: ContractEnv, node: PingNode, redis: RedisClient): Promise<void> {
  const addrs = node.getMultiaddrs().map(String)
  const chosen = pickPublishedAddr(addrs, env.transport)
  if (chosen === undefined) throw new Error(`no ${env.transport} address to publish among ${addrs.join(', ')}`)
  const published = chosen.includes('/p2p/') ? chosen : `${chosen}/p2p/${node.peerId.toString()}`
  await redis.command(['RPUSH', env.redisKey, published], 10_000)
  log(`listening, published ${published}`)
  // As in test-plans: the listener only serves until the harness stops it or the time is up.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, env.timeoutSeconds * 1000)
    const stop = (): void => { clearTimeout(timer); resolve() }
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
  })
}

async function runDialer (env: ContractEnv, node: PingNode, redis: RedisClient): Promise<void> {
  const reply = await redis.command(['BLPOP', env.redisKey, String(env.timeoutSeconds)], env.timeoutSeconds * 1000 + 5000)
  if (!Array.isArray(reply) || typeof reply[1] !== 'string') throw new Error(`no listener address within ${env.timeoutSeconds} s`)
  const target = multiaddr(reply[1])
  const signal = AbortSignal.timeout(env.timeoutSeconds * 1000)
  log(`dialing ${target.toString()}`)
  const start = performance.now()
  const connection = await node.dial(target, { signal })
  const pingRTT = await node.services.ping.ping(connection.remotePeer, { signal })
  const handshakePlusOneRTT = performance.now() - start
  process.stdout.write(`${resultLine(handshakePlusOneRTT, pingRTT)}\n`)
}

async function main (): Promise<number> {
  const env = readContractEnv()
  const redis = await RedisClient.connect(env.redisAddr, env.timeoutSeconds * 1000)
  const node = await createNode(env)
  try {
    if (env.isDialer) await runDialer(env, node, redis)
    else await runListener(env, node, redis)
    return 0
  } finally {
    redis.close()
    await node.stop().catch((err) => { log(`stop failed: ${String(err)}`) })
  }
}

main().then((code) => { process.exit(code) }, (err) => {
  log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
  process.exit(1)
})
