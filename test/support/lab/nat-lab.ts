/**
 * The NAT lab: a small Internet in network namespaces, built and torn down by the tests.
 *
 *   relay (11.0.0.10) ─┐
 *                      ├─ "internet": a bridge in its own namespace, 11.0.0.0/24
 *   router A (.11) ────┤     (each router's WAN passes through a delay wire: `delayMs` one way)
 *   router B (.12) ────┘
 *   host A 10.0.0.2 behind router A's LAN 10.0.0.1/24; host B 10.0.0.2 behind router B's.
 *
 * Both hosts have the same private address on purpose: dialing the other's private address
 * reaches yourself, as between two real home networks. The "internet" is 11.0.0.0/8, not a
 * documentation range, because libp2p (and miniupnpd) treat reserved ranges as non-public;
 * no packet leaves the namespaces. Every interface is created inside a namespace, so nothing
 * touches the host's network; namespace names carry our pid and a counter, so parallel runs do
 * not collide. `close()` always tears everything down (and process exit does it for labs a
 * failed test left behind).
 */
import { fileURLToPath } from 'node:url'
import { NetworkNamespace } from './namespace.ts'
import { applyNat, type NatKind } from './nat-kinds.ts'
import { processLines } from './process-lines.ts'
import { LAB_PREFIX, registerForTeardown, sweepStaleLabsSync, unregisterForTeardown } from './teardown.ts'

const DELAY_WIRE = fileURLToPath(new URL('./delay-wire.py', import.meta.url))

export const INTERNET_PREFIX = '11.0.0'
/** Give this to the node as "treat as public" (autonat's `--public-cidr`). */
export const INTERNET_CIDR = '11.0.0.0/8'
export const RELAY_ADDRESS = `${INTERNET_PREFIX}.10`
export const LAN_ROUTER_ADDRESS = '10.0.0.1'
export const LAN_HOST_ADDRESS = '10.0.0.2'

export interface NatLabOptions {
  /** Router A's behaviour (default 'eim'). */
  natA?: NatKind
  /** Router B's behaviour (default 'eim'). */
  natB?: NatKind
  /** One-way delay added on each router's WAN, in ms (default 25; 0 = no wire). */
  delayMs?: number
}

export interface LabRouter {
  readonly namespace: NetworkNamespace
  /** The router's public address on the "internet". */
  readonly wanAddress: string
  readonly nat: NatKind
  /** Changes the router's behaviour (and drops its existing mappings). */
  setNat(kind: NatKind): Promise<void>
}

export interface LabHost {
  readonly namespace: NetworkNamespace
  /** The host's own address (private for hosts behind routers). */
  readonly address: string
}

export interface NatLab {
  readonly relay: LabHost
  readonly routerA: LabRouter
  readonly routerB: LabRouter
  readonly hostA: LabHost
  readonly hostB: LabHost
  /** Every namespace of the lab (for tools that need to look inside). */
  readonly namespaces: readonly NetworkNamespace[]
  close(): Promise<void>
}

let labCount = 0

export async function createNatLab (options: NatLabOptions = {}): Promise<NatLab> {
  sweepStaleLabsSync()
  const prefix = `${LAB_PREFIX}${process.pid}x${++labCount}`
  const delayMs = options.delayMs ?? 25
  const namespaces: NetworkNamespace[] = []
  const owner = { destroySync: () => { for (const ns of namespaces.splice(0).reverse()) ns.destroySync() } }
  registerForTeardown(owner)
  const create = async (role: string): Promise<NetworkNamespace> => {
    const ns = await NetworkNamespace.create(`${prefix}-${role}`)
    namespaces.push(ns)
    return ns
  }
  try {
    const internet = await create('inet')
    await internet.ip(['link', 'add', 'name', 'br0', 'type', 'bridge'])
    await internet.ip(['link', 'set', 'br0', 'up'])

    const relay = await create('relay')
    await plugIntoInternet(internet, relay, 'prelay', `${RELAY_ADDRESS}/24`, 0, create)

    const makeRouter = async (side: 'a' | 'b', octet: number, nat: NatKind): Promise<[LabRouter, LabHost]> => {
      const routerNs = await create(`r${side}`)
      const wanAddress = `${INTERNET_PREFIX}.${octet}`
      await plugIntoInternet(internet, routerNs, `p${side}`, `${wanAddress}/24`, delayMs, create)
      const hostNs = await create(`h${side}`)
      await routerNs.ip(['link', 'add', 'name', 'lan', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', hostNs.name])
      await routerNs.ip(['addr', 'add', `${LAN_ROUTER_ADDRESS}/24`, 'dev', 'lan'])
      await routerNs.ip(['link', 'set', 'lan', 'up'])
      await hostNs.ip(['addr', 'add', `${LAN_HOST_ADDRESS}/24`, 'dev', 'eth0'])
      await hostNs.ip(['link', 'set', 'eth0', 'up'])
      await hostNs.ip(['route', 'add', 'default', 'via', LAN_ROUTER_ADDRESS])
      await routerNs.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1'])
      await applyNat(routerNs.name, nat, LAN_HOST_ADDRESS)
      const router = {
        namespace: routerNs,
        wanAddress,
        nat,
        async setNat (kind: NatKind) {
          await applyNat(routerNs.name, kind, LAN_HOST_ADDRESS)
          router.nat = kind
        }
      }
      return [router, { namespace: hostNs, address: LAN_HOST_ADDRESS }]
    }
    const [routerA, hostA] = await makeRouter('a', 11, options.natA ?? 'eim')
    const [routerB, hostB] = await makeRouter('b', 12, options.natB ?? 'eim')

    return {
      relay: { namespace: relay, address: RELAY_ADDRESS },
      routerA,
      routerB,
      hostA,
      hostB,
      namespaces: [...namespaces],
      async close () {
        owner.destroySync()
        unregisterForTeardown(owner)
      }
    }
  } catch (err) {
    owner.destroySync()
    unregisterForTeardown(owner)
    throw err
  }
}

/**
 * Connects `ns` to the internet bridge with address `cidr` on its interface `wan`; with a delay,
 * through a wire namespace running delay-wire.py between two veths.
 */
async function plugIntoInternet (internet: NetworkNamespace, ns: NetworkNamespace, port: string, cidr: string, delayMs: number,
  create: (role: string) => Promise<NetworkNamespace>): Promise<void> {
  if (delayMs <= 0) {
    await internet.ip(['link', 'add', 'name', port, 'type', 'veth', 'peer', 'name', 'wan', 'netns', ns.name])
  } else {
    const wire = await create(`w${port}`)
    await internet.ip(['link', 'add', 'name', port, 'type', 'veth', 'peer', 'name', 'w1', 'netns', wire.name])
    await wire.ip(['link', 'add', 'name', 'w0', 'type', 'veth', 'peer', 'name', 'wan', 'netns', ns.name])
    for (const end of ['w0', 'w1']) {
      await wire.ip(['link', 'set', end, 'promisc', 'on', 'up'])
      await offloadsOff(wire, end)
    }
    // Frames the wire copies must carry real checksums and real sizes: no offloads on the
    // interfaces that send into it either.
    await offloadsOff(ns, 'wan')
    await offloadsOff(internet, port)
    const child = processLines(wire.spawn('python3', ['-u', DELAY_WIRE, 'w0', 'w1', String(delayMs)]))
    await child.nextLine(line => line === 'ready', 10_000)
  }
  await internet.ip(['link', 'set', port, 'master', 'br0'])
  await internet.ip(['link', 'set', port, 'up'])
  await ns.ip(['addr', 'add', cidr, 'dev', 'wan'])
  await ns.ip(['link', 'set', 'wan', 'up'])
}

async function offloadsOff (ns: NetworkNamespace, device: string): Promise<void> {
  await ns.exec('ethtool', ['-K', device, 'tx', 'off', 'rx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off'])
}
