/**
 * `ts-libp2p daemon`: a drop-in for go-libp2p-daemon's p2pd. Same single-dash flags, same
 * start-up lines (`Control socket: MA`, `Peer ID: ID`, `Peer Addrs:` then one address per
 * line, real ports), the same control protocol (src/daemon/server.ts); exits 0 on
 * SIGINT/SIGTERM after a clean stop.
 *
 * Where it differs from p2pd on purpose: without `-id` the identity persists in the data
 * directory (`-dataDir`, default ./.data) instead of being ephemeral, and a stale unix control
 * socket left by a crash is removed instead of blocking the start.
 */
import { readFile } from 'node:fs/promises'
import type { Command } from '../cli.ts'
import { dataDirFrom, parseMultiaddr, UsageError } from '../args.ts'
import { loadOrCreateIdentity } from '../identity.ts'
import { stopOnSignal } from '../stop-on-signal.ts'
import { parseDaemonFlags, splitList, UNSUPPORTED_FLAGS, type DaemonFlags } from '../daemon-flags.ts'
import { createLibp2p, privateKeyFromProtobuf, type PrivateKey, type ServiceFactories } from '../../index.ts'
import { tcp } from '../../transport/tcp/index.ts'
import { noise } from '../../security/noise/index.ts'
import { tls } from '../../security/tls/index.ts'
import { plaintext } from '../../security/plaintext.ts'
import { yamux } from '../../muxer/yamux/index.ts'
import { mplex } from '../../muxer/mplex/index.ts'
import { identify } from '../../protocols/identify/index.ts'
import { ping } from '../../protocols/ping/index.ts'
import { echo } from '../../protocols/echo/index.ts'
import { kadDHT } from '../../dht/index.ts'
import { bootstrap } from '../../discovery/bootstrap.ts'
import { MemoryDatastore } from '../../store/index.ts'
import { DaemonServer } from '../../daemon/server.ts'
import { parseRouter, pubsubService } from './pubsub.ts'

const MAX_KEY_FILE_SIZE = 16 * 1024

async function loadKeyFile (path: string): Promise<PrivateKey> {
  const bytes = await readFile(path)
  if (bytes.length > MAX_KEY_FILE_SIZE) throw new UsageError(`-id ${path}: not a key file (too large)`)
  try {
    return privateKeyFromProtobuf(new Uint8Array(bytes))
  } catch (err) {
    throw new UsageError(`-id ${path}: not a libp2p PrivateKey protobuf: ${(err as Error).message}`)
  }
}

function services (flags: DaemonFlags): ServiceFactories {
  const s: ServiceFactories = { identify: identify(), ping: ping() }
  if (flags.echo) s.echo = echo()
  const dhtMode = flags.dhtServer ? 'server' : (flags.dhtClient || flags.dht) ? 'client' : undefined
  if (dhtMode !== undefined) s.dht = kadDHT({ mode: dhtMode })
  if (flags.pubsub) {
    const router = parseRouter(flags.pubsubRouter)
    if (router === undefined) throw new UsageError(`-pubsubRouter must be gossipsub or floodsub, not ${flags.pubsubRouter}`)
    s.pubsub = pubsubService(router)
  }
  const peers = [...splitList(flags.b), ...splitList(flags.bootstrapPeers)].map(a => parseMultiaddr(a, 'bootstrap peer'))
  if (peers.length > 0) s.bootstrap = bootstrap({ list: peers })
  return s
}

export const daemonCommand: Command = {
  help: `Usage: ts-libp2p daemon [-listen MA] [-hostAddrs MA,...] [-noListenAddrs] [-id FILE] [-dataDir DIR]
                        [-noise] [-tls] [-plaintext] [-muxer yamux|mplex] [-dht|-dhtServer|-dhtClient]
                        [-pubsub [-pubsubRouter gossipsub|floodsub]] [-echo] [-connManager -connLo N -connHi N]
                        [-b MA,...] [-q]

A libp2p daemon compatible with go-libp2p-daemon (p2pd): serves its control protocol on -listen
(default /unix/tmp/p2pd.sock; /ip4/127.0.0.1/tcp/0 picks a port) and prints
  Control socket: MA
  Peer ID: ID
  Peer Addrs:
  MA (one per line)
unless -q. Flags take Go's forms: -flag, -flag=value, -flag value (booleans only -flag=false).
-noise, -tls, -plaintext and -echo default to true as in p2pd. Without -id the identity persists
in -dataDir (default ./.data). Accepted but not supported yet (a note on stderr): -relay (p2pd's
default, so only an explicit -relay is noted), -autoRelay, -autonat, -natPortMap, -metricsAddr,
-f/-i JSON config, -announceAddrs, -connGrace, pubsub signing switches.`,
  async run (argv) {
    const flags = parseDaemonFlags(argv)
    for (const name of UNSUPPORTED_FLAGS) {
      if (flags.given.has(name)) process.stderr.write(`ts-libp2p daemon: -${name} is not supported yet (ignored)\n`)
    }
    const control = parseMultiaddr(flags.listen, 'control address')
    if (flags.muxer !== 'yamux' && flags.muxer !== 'mplex') throw new UsageError(`-muxer must be yamux or mplex, not ${flags.muxer}`)
    const privateKey = flags.id !== '' ? await loadKeyFile(flags.id) : await loadOrCreateIdentity(dataDirFrom(flags.dataDir === '' ? undefined : flags.dataDir))
    const encrypters = [
      ...(flags.noise ? [noise()] : []), ...(flags.tls ? [tls()] : []), ...(flags.plaintext ? [plaintext()] : [])
    ]
    if (encrypters.length === 0) throw new UsageError('every security transport is disabled (-noise, -tls, -plaintext)')
    const hostAddrs = flags.noListenAddrs ? [] : splitList(flags.hostAddrs === '' ? '/ip4/0.0.0.0/tcp/0' : flags.hostAddrs)
    const connHi = Number(flags.connHi)
    const connLo = Number(flags.connLo)
    const node = await createLibp2p({
      privateKey,
      datastore: new MemoryDatastore(),
      addresses: { listen: hostAddrs.map(a => parseMultiaddr(a, 'host address').toString()) },
      transports: [tcp()],
      connectionEncrypters: encrypters,
      streamMuxers: [flags.muxer === 'mplex' ? mplex() : yamux()],
      connectionManager: flags.connManager && connHi > 0 ? { maxConnections: connHi, lowWatermark: Math.min(connLo, connHi) } : undefined,
      services: services(flags),
      start: false
    })
    const server = new DaemonServer(node, { listen: control })
    const stopped = stopOnSignal(async () => {
      await server.stop()
      await node.stop()
    }, 'daemon')
    try {
      await node.start()
      await server.start()
    } catch (err) {
      await server.stop().catch(() => {})
      await node.stop().catch(() => {})
      throw err
    }
    if (!flags.q) {
      const lines = [`Control socket: ${server.listenAddr.toString()}`, `Peer ID: ${node.peerId.toString()}`, 'Peer Addrs:',
        ...node.getMultiaddrs().map(a => a.toString().replace(/\/p2p\/[^/]+$/, ''))]
      process.stdout.write(lines.join('\n') + '\n')
    }
    return await stopped
  }
}
