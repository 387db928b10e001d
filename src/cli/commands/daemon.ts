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
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Command } from '../cli.ts'
import { dataDirFrom, parseMultiaddr, UsageError } from '../args.ts'
import { loadOrCreateIdentity } from '../identity.ts'
import { stopOnSignal } from '../stop-on-signal.ts'
import { parseDaemonFlags, parseGoDuration, parseGoInt, splitList, UNSUPPORTED_FLAGS, type DaemonFlags } from '../daemon-flags.ts'
import { applyConfigFile } from '../daemon-config.ts'
import { parseApps, startApps, stopApps, type HostedApp } from '../daemon-apps.ts'
import { createLibp2p, privateKeyFromProtobuf, type PrivateKey, type ServiceFactories } from '../../index.ts'
import type { Libp2p } from '../../interface/libp2p.ts'
import type { Libp2pOptions } from '../../node/options.ts'
import { tcp } from '../../transport/tcp/index.ts'
import { circuitRelayServer, circuitRelayTransport } from '../../relay/index.ts'
import { noise } from '../../security/noise/index.ts'
import { yamux } from '../../muxer/yamux/index.ts'
import { identify } from '../../protocols/identify/index.ts'
import { ping } from '../../protocols/ping/index.ts'
import { echo } from '../../protocols/echo/index.ts'
import { MemoryDatastore } from '../../store/index.ts'
import { DaemonServer } from '../../daemon/server.ts'
import { formatDaemonMultiaddr, parseDaemonMultiaddr, parseLocalAddress } from '../../daemon/local-socket.ts'
import { GO_DEFAULT_WATERMARKS, type Watermarks } from '../../daemon/conn-manager.ts'
import { DEFAULT_MAX_CONNECTIONS } from '../../switch/connection-manager.ts'
import type { GossipSubOptions } from '../../pubsub/gossipsub/params.ts'
// The DHT, pubsub, TLS, mplex, plaintext and bootstrap load only when a flag asks for them (dynamic
// imports below): a daemon started with p2pd's defaults does not pay their code in memory.

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

function pubsubOptions (flags: DaemonFlags): GossipSubOptions {
  // p2pd's two switches map onto our two policies; the mixed go modes (sign but accept unsigned,
  // or the reverse) do not exist here
  if (flags.pubsubSign !== flags.pubsubSignStrict) throw new UsageError('-pubsubSign and -pubsubSignStrict must be both true (StrictSign) or both false (StrictNoSign) here')
  // the policies' names (pubsub/sign.ts), written out so that the module loads only with -pubsub
  const options: GossipSubOptions = { globalSignaturePolicy: flags.pubsubSign ? 'StrictSign' : 'StrictNoSign' }
  if (flags.gossipsubHeartbeatInterval !== '') options.heartbeatInterval = positiveDuration(flags.gossipsubHeartbeatInterval, 'gossipsubHeartbeatInterval')
  if (flags.gossipsubHeartbeatInitialDelay !== '') options.heartbeatInitialDelay = positiveDuration(flags.gossipsubHeartbeatInitialDelay, 'gossipsubHeartbeatInitialDelay')
  return options
}

function positiveDuration (text: string, name: string): number {
  const ms = parseGoDuration(text, name)
  if (ms <= 0) throw new UsageError(`-${name} must be positive`)
  return ms
}

async function services (flags: DaemonFlags): Promise<ServiceFactories> {
  const s: ServiceFactories = { identify: identify(), ping: ping() }
  if (flags.echo) s.echo = echo()
  if (flags.relay) s.relay = circuitRelayServer()
  const dhtMode = flags.dhtServer ? 'server' : (flags.dhtClient || flags.dht) ? 'client' : undefined
  if (dhtMode !== undefined) s.dht = (await import('../../dht/index.ts')).kadDHT({ mode: dhtMode })
  if (flags.pubsub) {
    const router = flags.pubsubRouter
    if (router !== 'gossipsub' && router !== 'floodsub') throw new UsageError(`-pubsubRouter must be gossipsub or floodsub, not ${router}`)
    const options = pubsubOptions(flags)
    s.pubsub = router === 'floodsub'
      ? (await import('../../pubsub/floodsub/floodsub.ts')).floodsub({ globalSignaturePolicy: options.globalSignaturePolicy })
      : (await import('../../pubsub/gossipsub/gossipsub.ts')).gossipsub(options)
  }
  // -autonat serves AutoNAT (v1 and v2) to others, as p2pd's EnableNATService; the client half,
  // which learns our own reachability, runs with it and with -autoRelay (which reserves once
  // that reachability is private)
  if (flags.autonat || flags.autoRelay) s.autonat = (await import('../../protocols/autonat/index.ts')).autoNAT({ server: flags.autonat })
  // talks only to the LAN's gateway, and only while we listen on a private IPv4 address
  if (flags.natPortMap) s.nat = (await import('../../nat/index.ts')).uPnPNAT()
  if (flags.b) {
    // p2pd dials go-libp2p-kad-dht's public bootstrap list when -bootstrapPeers is empty; we
    // carry no public list, so a machine never reaches the internet unless told where
    const peers = splitList(flags.bootstrapPeers).map(a => parseMultiaddr(a, 'bootstrap peer'))
    if (peers.length === 0) throw new UsageError('-b needs -bootstrapPeers here (this daemon has no built-in public bootstrap list)')
    s.bootstrap = (await import('../../discovery/bootstrap.ts')).bootstrap({ list: peers })
  }
  return s
}

/** -noise, -tls, -plaintext in p2pd's order of preference. */
type Encrypters = NonNullable<Libp2pOptions['connectionEncrypters']>
type Muxers = NonNullable<Libp2pOptions['streamMuxers']>

async function encryptersFor (flags: DaemonFlags): Promise<Encrypters> {
  const encrypters: Encrypters = []
  if (flags.noise) encrypters.push(noise())
  if (flags.tls) encrypters.push((await import('../../security/tls/index.ts')).tls())
  if (flags.plaintext) encrypters.push((await import('../../security/plaintext.ts')).plaintext())
  if (encrypters.length === 0) throw new UsageError('every security transport is disabled (-noise, -tls, -plaintext)')
  return encrypters
}

async function muxersFor (flags: DaemonFlags): Promise<Muxers> {
  if (flags.muxer === 'mplex') return [(await import('../../muxer/mplex/index.ts')).mplex()]
  return [yamux()]
}

/** -listen: p2pd's forms (`/unix/tmp/p2pd.sock`, `/ip4/127.0.0.1/tcp/0`). */
function parseControlAddress (text: string): Multiaddr {
  try {
    const addr = parseDaemonMultiaddr(text)
    parseLocalAddress(addr)
    return addr
  } catch (err) {
    throw new UsageError(`invalid control address '${text}': ${(err as Error).message}`)
  }
}

/** The watermarks CONNMANAGER and the automatic trim use. */
function watermarks (flags: DaemonFlags): Watermarks {
  if (!flags.connManager) return GO_DEFAULT_WATERMARKS
  const lowWater = parseGoInt(flags.connLo, 'connLo')
  const highWater = parseGoInt(flags.connHi, 'connHi')
  const gracePeriodMs = parseGoDuration(flags.connGrace, 'connGrace')
  if (lowWater > highWater) throw new UsageError(`-connLo (${lowWater}) must not be above -connHi (${highWater})`)
  return { lowWater, highWater, gracePeriodMs: Math.max(0, gracePeriodMs) }
}

/** Flags of features we lack, set on the command line or by -f: each named with its consequence. */
function noteUnsupported (flags: DaemonFlags, warn: (line: string) => void): void {
  const values = flags as unknown as Record<string, boolean | string>
  for (const [name, consequence] of Object.entries(UNSUPPORTED_FLAGS)) {
    const on = values[name] !== false && values[name] !== ''
    if (on && (flags.given.has(name) || flags.fromConfig.has(name))) warn(`-${name}: ${consequence}`)
  }
}

export const daemonCommand: Command = {
  help: `Usage: ts-libp2p daemon [-listen MA] [-hostAddrs MA,...] [-announceAddrs MA,...] [-noListenAddrs]
                        [-id FILE] [-dataDir DIR] [-f CONFIG.json] [-noise] [-tls] [-plaintext]
                        [-muxer yamux|mplex] [-dht|-dhtServer|-dhtClient] [-pubsub [-pubsubRouter gossipsub|floodsub]
                        [-pubsubSign] [-pubsubSignStrict] [-gossipsubHeartbeatInterval D]
                        [-gossipsubHeartbeatInitialDelay D]] [-echo] [-connManager [-connLo N] [-connHi N]
                        [-connGrace D]] [-b -bootstrapPeers MA,...] [-relay] [-autoRelay] [-autonat] [-natPortMap]
                        [-forceReachabilityPrivate|-forceReachabilityPublic] [-apps NAME[:UID],... -appsDir DIR] [-q]

A libp2p daemon compatible with go-libp2p-daemon (p2pd): serves its control protocol on -listen
(default /unix/tmp/p2pd.sock; /ip4/127.0.0.1/tcp/0 picks a port) and prints
  Control socket: MA
  Peer ID: ID
  Peer Addrs:
  MA (one per line)
unless -q. Flags take Go's forms: -flag, -flag=value, -flag value (booleans only -flag=false);
durations (D) are Go's (120s, 1m30s). -noise, -tls, -plaintext and -echo default to true as in
p2pd. Without -id the identity persists in -dataDir (default ./.data). -f reads p2pd's JSON config;
flags given on the command line override it. Without -connManager the watermarks are go-libp2p's
defaults (160/192, 1m), as p2pd's. -b needs -bootstrapPeers (no built-in public list).
-apps hosts one application per NAME (its own identity, node and control socket APPSDIR/NAME.sock,
mode 0600, owned by UID when given): docs/daemon/multi-tenancy.md.
-relay (default true, as p2pd) makes the node a circuit relay v2 hop; every node dials and accepts
/p2p-circuit. -autoRelay keeps reservations on relays it meets once AutoNAT finds us private
(at once with -forceReachabilityPrivate; never with -forceReachabilityPublic). -autonat answers
others' AutoNAT v1/v2 dial-back requests. -natPortMap maps our listen ports on the LAN's gateway
(UPnP IGD or NAT-PMP; nothing is sent while we listen on loopback only).
Accepted, with a note on stderr of what happens instead: -metricsAddr, -forceReachability*
(beyond -autoRelay), -pprof, -i.`,
  async run (argv) {
    const daemon = await startDaemon(argv, line => { process.stderr.write(`ts-libp2p daemon: ${line}\n`) })
    const stopped = stopOnSignal(async () => { await daemon.stop() }, 'daemon')
    if (!daemon.quiet) process.stdout.write(daemon.startupLines.join('\n') + '\n')
    return await stopped
  }
}

export interface RunningDaemon {
  node: Libp2p
  server: DaemonServer
  /** p2pd's start-up lines (Control socket, Peer ID, Peer Addrs, ...). */
  startupLines: string[]
  /** -q was given. */
  quiet: boolean
  stop(): Promise<void>
}

/**
 * Starts the daemon a p2pd command line describes, in this process (the CLI command, and the
 * interop factory, which runs ours in-process). `warn` receives the notes on flags.
 */
export async function startDaemon (argv: string[], warn: (line: string) => void): Promise<RunningDaemon> {
  const flags = parseDaemonFlags(argv)
  if (flags.f !== '') await applyConfigFile(flags, flags.f, warn)
  noteUnsupported(flags, warn)
  const control = parseControlAddress(flags.listen)
  if (flags.muxer !== 'yamux' && flags.muxer !== 'mplex') throw new UsageError(`-muxer must be yamux or mplex, not ${flags.muxer}`)
  const privateKey = flags.id !== '' ? await loadKeyFile(flags.id) : await loadOrCreateIdentity(dataDirFrom(flags.dataDir === '' ? undefined : flags.dataDir))
  // once here, so that a usage error stops the start before any node exists
  await encryptersFor(flags)
  await services(flags)
  const hostAddrs = flags.noListenAddrs ? [] : splitList(flags.hostAddrs === '' ? '/ip4/0.0.0.0/tcp/0' : flags.hostAddrs)
  const announce = splitList(flags.announceAddrs).map(a => parseMultiaddr(a, 'announce address').toString())
  const marks = watermarks(flags)
  const appSpecs = parseApps(flags.apps)
  if (appSpecs.length > 0 && flags.appsDir === '') throw new UsageError('-apps needs -appsDir (where the applications\' control sockets go)')
  // p2pd's -forceReachabilityPublic keeps autorelay from ever reserving
  const autoRelay = flags.autoRelay && !flags.forceReachabilityPublic
  const createNode = async (key: PrivateKey, listen: string[], announceAddrs: string[]): Promise<Libp2p> => await createLibp2p({
    privateKey: key,
    datastore: new MemoryDatastore(),
    // -autoRelay: listening on the bare /p2p-circuit is what turns auto-relay on (relay/auto-relay.ts)
    addresses: { listen: [...listen.map(a => parseMultiaddr(a, 'host address').toString()), ...(autoRelay ? ['/p2p-circuit'] : [])], announce: announceAddrs },
    // as p2pd: every node dials and accepts /p2p-circuit (go-libp2p's relay transport is on by
    // default, and -noListenAddrs keeps it); -relay (default true) makes it a relay v2 hop too
    transports: [tcp(), circuitRelayTransport({ autoRelay: { onlyWhenPrivate: !flags.forceReachabilityPrivate } })],
    connectionEncrypters: await encryptersFor(flags),
    streamMuxers: await muxersFor(flags),
    // the watermarks are the daemon's (DaemonConnectionManager, as p2pd's connmgr); the node's
    // own limit, where it refuses inbound connections, stays well above the high watermark
    connectionManager: { maxConnections: Math.max(DEFAULT_MAX_CONNECTIONS, 2 * marks.highWater) },
    services: await services(flags),
    start: false
  })
  const node = await createNode(privateKey, hostAddrs, announce)
  const server = new DaemonServer(node, { listen: control, watermarks: marks })
  let apps: HostedApp[] = []
  const stop = async (): Promise<void> => {
    await stopApps(apps)
    await server.stop()
    await node.stop()
  }
  try {
    await node.start()
    await server.start()
    // each application listens where the daemon does, on ports of its own
    const appListen = hostAddrs.map(a => a.replace(/\/(tcp|udp)\/\d+/, '/$1/0'))
    apps = await startApps(appSpecs, { appsDir: flags.appsDir, dataDir: dataDirFrom(flags.dataDir === '' ? undefined : flags.dataDir), watermarks: marks, createNode: async key => await createNode(key, appListen, []) })
  } catch (err) {
    await stop().catch(() => {})
    throw err
  }
  const startupLines = [`Control socket: ${formatDaemonMultiaddr(server.listenAddr)}`, `Peer ID: ${node.peerId.toString()}`, 'Peer Addrs:',
    ...node.getMultiaddrs().map(a => a.toString().replace(/\/p2p\/[^/]+$/, ''))]
  if (flags.b) startupLines.push('Bootstrap peers:', ...splitList(flags.bootstrapPeers))
  startupLines.push(...apps.map(app => app.line))
  return { node, server, startupLines, quiet: flags.q, stop }
}
