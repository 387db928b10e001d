/**
 * `ts-libp2p start`: runs a node until SIGINT/SIGTERM. Once listening it prints one JSON line
 * `{"peerId":...,"addrs":[...]}` on stdout (scripts wait for that line), then serves identify
 * and ping (and echo with --echo), keeping bootstrap peers connected.
 */
import { parseArgs } from 'node:util'
import type { Command } from '../cli.ts'
import { dataDirFrom, DEFAULT_DATA_DIR, parseMultiaddr, parsePositiveInt } from '../args.ts'
import { loadOrCreateIdentity } from '../identity.ts'
import { createCliNode } from '../node-builder.ts'
import { parseSecurityOptions, SECURITY_HELP, SECURITY_OPTIONS } from '../security-options.ts'
import { LIMIT_HELP, LIMIT_OPTIONS, parseLimitOptions } from '../limit-options.ts'
import { stopOnSignal } from '../stop-on-signal.ts'
import { printEvents, type EventSource } from '../event-lines.ts'
import { NAT_HELP, NAT_OPTIONS, parseNatOptions } from '../nat-options.ts'
import { createDatastore } from '../../store/index.ts'
import { provideOnceJoined, parseDhtMode } from './dht-start.ts'
import { parseRouter, printMessages } from './pubsub.ts'
import type { PubSubBase } from '../../pubsub/gossipsub/index.ts'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from '../../index.ts'
import { oneLine, UsageError } from '../args.ts'
import { isOffline } from '../../util/offline.ts'
import { PUBLIC_BOOTSTRAP_LIST } from '../../discovery/public-bootstrap.ts'
import { isLoopbackIp, isRelayed, peerIdStringOf } from '../../util/multiaddr.ts'
import { parseBindAddress, startDashboard, startMetricsEndpoint } from '../metrics-options.ts'

/** With discovery on, a node keeps this many connections by dialing the peers it finds. */
const DEFAULT_MIN_CONNECTIONS = 8
const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0', '/ip4/0.0.0.0/udp/0/quic-v1']
/** A private network cannot protect QUIC (it encrypts below everything, QUIC has no room for it). */
const DEFAULT_LISTEN_PNET = ['/ip4/0.0.0.0/tcp/0']
/** After this long a stop that hangs is abandoned (exit code 1). */

export const startCommand: Command = {
  help: `Usage: ts-libp2p start [--listen MA]... [--bootstrap MA]... [--offline] [--dns-server IP]...
                       [--mdns | --no-mdns] [--rendezvous-server]
                       [--rendezvous MA]... [--namespace NS]...
                       [--data-dir DIR] [--echo]
                       [--pubsub gossipsub|floodsub] [--subscribe TOPIC]...
                       [--relay-server] [--relay MA]...
                       [--security noise,tls] [--psk FILE]
                       [--allow ADDR]... [--conns-per-ip N] [--conns-per-subnet N] [--no-limits]
                       [--events] [--no-nat-traversal] [--metrics HOST:PORT]
                       [--dashboard HOST:PORT [--dashboard-token T]]
                       [--public-cidr CIDR]...

Starts a node. Without --bootstrap or --offline it joins the public libp2p network: it dials
the public bootstrap peers (/dnsaddr/bootstrap.libp2p.io) and runs the Amino DHT, a client
until AutoNAT finds it publicly reachable. Unless offline it also finds peers on the LAN with
mDNS (advertising its LAN addresses only). When none can be reached (offline, DNS failing) it
says so once on stderr and keeps retrying with backoff.
When it is listening, prints one line of JSON on stdout:
  {"peerId":"12D3KooW...","addrs":["/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW..."]}
then serves identify and ping (and echo with --echo) until SIGINT or SIGTERM, when it stops
cleanly and exits 0. The identity and the peer store persist in the data directory, so a
restarted node keeps its peer id and the peers it learned.

Options:
  --listen MA      address to listen on, repeatable (default ${DEFAULT_LISTEN.join(' and ')}; /udp/P/quic-v1 is QUIC)
  --bootstrap MA   peer to stay connected to (MA ends in /p2p/<id>, or /dnsaddr/<name>/p2p/<id>),
                   repeatable; replaces the public bootstrap list (a private network)
  --offline        do not join the public network (no public bootstrap list, no default DHT);
                   also when the environment has TS_LIBP2P_OFFLINE=1
  --no-mdns        do not look for peers on the LAN with mDNS (on by default unless offline)
  --mdns           run mDNS even when offline (--offline, TS_LIBP2P_OFFLINE=1)
  --rendezvous-server  also be a rendezvous point (/rendezvous/1.0.0; registrations kept in the
                   data directory)
  --rendezvous MA  register at the rendezvous point MA (ends in /p2p/<id>) in each --namespace
                   and discover the peers registered there every 10 s, repeatable; with
                   --events each registration prints {"event":"rendezvous:register",...}
  --namespace NS   rendezvous namespace, repeatable (default ts-libp2p)
  --min-connections N  below N connections, dial peers found by discovery or known from the
                   peer store (default 8 when mDNS or the public network is on, else 0)
  --dns-server IP  DNS server for /dns* and /dnsaddr addresses (IP or IP:PORT), repeatable
                   (default: the system's)
  --data-dir DIR   identity and peer store directory (default ./${DEFAULT_DATA_DIR})
  --echo           also serve /echo/1.0.0
  --dht MODE       join the Kademlia DHT as a server or client (needs --bootstrap to find it)
  --provide CID    with --dht: provide CID once joined, repeatable (prints {"provided":CID,"accepted":N})
  --pubsub R       run a pubsub router: gossipsub or floodsub
  --subscribe T    subscribe to topic T, repeatable (implies --pubsub gossipsub); each message
                   received prints {"topic":...,"from":...,"seqno":"<hex>","data":"<base64>"}
  --events         after the start line, print {"event":"started","ms":N} (N: ms since the
                   process started) and then one JSON line per event: peer:connect (peer,
                   addr, limited), peer:disconnect, self:peer:update (addrs), reachability
                   (status), relay:reservation, holepunch (peer, success, ms, attempt, addr)
  --no-nat-traversal  do not run AutoNAT, DCUtR hole punching, auto-relay or port mapping on
                      the LAN's router (UPnP IGD / NAT-PMP; on by default)
  --metrics HOST:PORT  serve Prometheus metrics at http://HOST:PORT/metrics (the start line
                   then has "metrics":URL); metrics name peers and addresses, so bind to
                   loopback unless the network in between is yours
  --dashboard HOST:PORT  serve a live web dashboard at http://HOST:PORT/ (the start line then
                   has "dashboard":URL); any bind but loopback needs --dashboard-token T (or
                   TS_LIBP2P_DASHBOARD_TOKEN), and every request must carry it (?token=T)
  --relay-server   also serve the circuit relay v2 hop protocol (be a relay for others)
  --relay MA       reserve a slot on the relay at MA (ends in /p2p/<relay>), repeatable; the
                   JSON line is printed once every reservation is made, and its addrs include
                   <MA>/p2p-circuit/p2p/<us>. A relay that is down is retried meanwhile.
${SECURITY_HELP}
${LIMIT_HELP}
${NAT_HELP}
  -h, --help       show this help`,
  async run (argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        listen: { type: 'string', multiple: true },
        bootstrap: { type: 'string', multiple: true },
        offline: { type: 'boolean', default: false },
        mdns: { type: 'boolean', default: false },
        'no-mdns': { type: 'boolean', default: false },
        'min-connections': { type: 'string' },
        'rendezvous-server': { type: 'boolean', default: false },
        rendezvous: { type: 'string', multiple: true },
        namespace: { type: 'string', multiple: true },
        'dns-server': { type: 'string', multiple: true },
        'data-dir': { type: 'string' },
        echo: { type: 'boolean', default: false },
        dht: { type: 'string' },
        provide: { type: 'string', multiple: true },
        pubsub: { type: 'string' },
        subscribe: { type: 'string', multiple: true },
        events: { type: 'boolean', default: false },
        'no-nat-traversal': { type: 'boolean', default: false },
        'relay-server': { type: 'boolean', default: false },
        relay: { type: 'string', multiple: true },
        metrics: { type: 'string' },
        dashboard: { type: 'string' },
        'dashboard-token': { type: 'string' },
        ...SECURITY_OPTIONS,
        ...LIMIT_OPTIONS,
        ...NAT_OPTIONS
      },
      strict: true,
      allowPositionals: false
    })
    const relays = (values.relay ?? []).map(a => parseRelayAddr(a))
    const listen = [...(values.listen ?? (values.psk !== undefined ? DEFAULT_LISTEN_PNET : DEFAULT_LISTEN)).map(a => parseMultiaddr(a, 'listen address')), ...relays.map(r => r.encapsulate('/p2p-circuit'))]
    // auto-relay: reservations on relays it knows once AutoNAT says we are private
    if (values['no-nat-traversal'] !== true) listen.push(parseMultiaddr('/p2p-circuit'))
    const offline = values.offline || isOffline()
    const publicNetwork = values.bootstrap === undefined && !offline
    if (values.mdns && values['no-mdns']) throw new UsageError('--mdns and --no-mdns contradict each other')
    const mdnsMode = values['no-mdns'] ? false : values.mdns ? 'force' as const : !offline
    const rendezvousPoints = (values.rendezvous ?? []).map(a => parseMultiaddr(a, 'rendezvous point'))
    if (values.namespace !== undefined && rendezvousPoints.length === 0) throw new UsageError('--namespace needs --rendezvous MA')
    const minConnections = parsePositiveInt(values['min-connections'], 'min-connections', mdnsMode !== false || publicNetwork || rendezvousPoints.length > 0 ? DEFAULT_MIN_CONNECTIONS : 0, true)
    const bootstrapList = (values.bootstrap ?? (publicNetwork ? PUBLIC_BOOTSTRAP_LIST : [])).map(a => parseMultiaddr(a, 'bootstrap address'))
    const dhtMode = parseDhtMode(values.dht, values.provide) ?? (publicNetwork ? 'public' : undefined)
    const dataDir = dataDirFrom(values['data-dir'])
    const topics = values.subscribe ?? []
    const router = parseRouter(values.pubsub) ?? (topics.length > 0 ? 'gossipsub' : undefined)

    const metricsBind = values.metrics === undefined ? undefined : parseBindAddress(values.metrics, '--metrics')
    const dashboardBind = values.dashboard === undefined ? undefined : parseBindAddress(values.dashboard, '--dashboard')
    const dashboardToken = values['dashboard-token'] ?? process.env.TS_LIBP2P_DASHBOARD_TOKEN
    if (dashboardBind !== undefined && (dashboardToken ?? '') === '' && !isLoopbackIp(dashboardBind.host) && dashboardBind.host !== 'localhost') {
      throw new UsageError(`--dashboard ${values.dashboard} is not a loopback address: it needs --dashboard-token T`)
    }
    const security = await parseSecurityOptions(values)
    const resourceManager = parseLimitOptions(values)
    const nat = parseNatOptions(values)
    const privateKey = await loadOrCreateIdentity(dataDir)
    const datastore = createDatastore(dataDir)
    await datastore.open?.()
    const node = await createCliNode({ privateKey, dataDir, datastore, listen, bootstrap: bootstrapList, echo: values.echo, dht: dhtMode, dnsServers: values['dns-server'], mdns: mdnsMode, minConnections, rendezvousServer: values['rendezvous-server'], rendezvous: { points: rendezvousPoints, namespaces: values.namespace ?? ['ts-libp2p'], onRegistered: values.events ? printRegistered : undefined }, onBootstrapUnreachable: reportBootstrapUnreachable, pubsub: router, security, resourceManager, natTraversal: !values['no-nat-traversal'], ...nat, relayServer: values['relay-server'], bitswap: true, metrics: metricsBind !== undefined || dashboardBind !== undefined })
    let metricsEndpoint: { url: string, close: () => Promise<void> } | undefined
    let dashboard: { url: string, close: () => Promise<void> } | undefined
    const stopped = stopOnSignal(async () => {
      await dashboard?.close()
      await metricsEndpoint?.close()
      await node.stop()
      await datastore.close?.()
    }, 'node')
    try {
      await node.start()
      if (metricsBind !== undefined) metricsEndpoint = await startMetricsEndpoint(node.metrics!, metricsBind)
      if (dashboardBind !== undefined) dashboard = await startDashboard(node, dashboardBind, dashboardToken)
    } catch (err) {
      await dashboard?.close()
      await metricsEndpoint?.close()
      await node.stop().catch(() => {})
      await datastore.close?.()
      throw err
    }
    if (relays.length > 0 && await untilReserved(node, relays, stopped) === 'stopped') return await stopped
    process.stdout.write(JSON.stringify({ peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map(a => a.toString()), ...(metricsEndpoint !== undefined ? { metrics: metricsEndpoint.url } : {}), ...(dashboard !== undefined ? { dashboard: dashboard.url } : {}) }) + '\n')
    // the process's own clock (since it started), for checks that must not count spawn latency
    if (values.events) process.stdout.write(JSON.stringify({ event: 'started', ms: Math.round(performance.now()) }) + '\n')
    if (values.events) printEvents(node as unknown as EventSource)
    // files added with `ts-libp2p add` are served by Bitswap and announced with the DHT on
    provideOnceJoined(node.services.dht, [...(values.provide ?? []), ...(await (await import('../../exchange/roots.ts')).listRoots(datastore)).map(r => r.cid.toString())])
    if (router !== undefined) printMessages(node.services.pubsub as PubSubBase, topics)
    return await stopped
  }
}

function printRegistered (point: string, ns: string, ttl: number): void {
  process.stdout.write(JSON.stringify({ event: 'rendezvous:register', point, ns, ttl }) + '\n')
}

/** The one line a user sees when the bootstrap peers cannot be reached; retries go on quietly. */
function reportBootstrapUnreachable (error: Error): void {
  const why = oneLine(error)
  process.stderr.write(`ts-libp2p: cannot reach any bootstrap peer (offline or DNS failing?): ${why.length > 240 ? why.slice(0, 240) + '...' : why}; retrying with backoff\n`)
}

/** A `--relay` address: a multiaddr naming the relay (`.../p2p/<relay>`), not itself a circuit. */
function parseRelayAddr (text: string): Multiaddr {
  const addr = parseMultiaddr(text, 'relay address')
  if (peerIdStringOf(addr) === undefined || isRelayed(addr)) throw new UsageError(`--relay needs a relay's address ending in /p2p/<relay id>: ${text}`)
  return addr
}

/** Resolves once the node advertises a circuit address on every relay, or 'stopped' if it stops first. */
async function untilReserved (node: Libp2p, relays: Multiaddr[], stopped: Promise<number>): Promise<'reserved' | 'stopped'> {
  const relayIds = relays.map(r => peerIdStringOf(r)!)
  const allReserved = (): boolean => relayIds.every(id => node.getMultiaddrs().some(a => isRelayed(a) && a.toString().includes(`/p2p/${id}/p2p-circuit`)))
  if (allReserved()) return 'reserved'
  let listener: (() => void) | undefined
  try {
    return await Promise.race([
      stopped.then(() => 'stopped' as const),
      new Promise<'reserved'>(resolve => {
        listener = () => { if (allReserved()) resolve('reserved') }
        node.addEventListener('relay:reservation', listener)
      })
    ])
  } finally {
    if (listener !== undefined) node.removeEventListener('relay:reservation', listener)
  }
}
