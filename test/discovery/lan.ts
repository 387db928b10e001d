/**
 * A LAN for discovery tests: one namespace holding a bridge (multicast snooping off, so mDNS
 * floods like on a dumb switch) and `hosts` namespaces, each with one veth into the bridge,
 * an address 10.77.0.<n>/24 (or, IPv6-only, fd77::<n>/64), its IPv6 link-local address and a
 * multicast route. Every link is
 * created inside a namespace (nothing touches the host's network), no namespace has a route out.
 */
import { NetworkNamespace } from '../support/lab/index.ts'
import { LAB_PREFIX, registerForTeardown, unregisterForTeardown } from '../support/lab/teardown.ts'

export interface LanHost {
  namespace: NetworkNamespace
  ip: string
}

export interface Lan {
  hosts: LanHost[]
  destroy(): void
}

export const LAN_PREFIX = '10.77.0.'

export interface LanOptions {
  /**
   * IPv4 addresses and the multicast route (default true); without, hosts have IPv6 only: their
   * link-local address and a unique-local fd77::<n>/64 (nodes do not announce link-local ones).
   */
  ipv4?: boolean
}

export async function createLan (tag: string, hostCount: number, options: LanOptions = {}): Promise<Lan> {
  const made: NetworkNamespace[] = []
  const destroy = (): void => {
    for (const ns of made.splice(0).reverse()) {
      ns.destroySync()
      unregisterForTeardown(ns)
    }
  }
  const create = async (name: string): Promise<NetworkNamespace> => {
    const ns = await NetworkNamespace.create(`${LAB_PREFIX}${process.pid}${tag}${name}`)
    made.push(ns)
    registerForTeardown(ns)
    return ns
  }
  try {
    const bridge = await create('br')
    await bridge.ip(['link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0'])
    await bridge.ip(['link', 'set', 'br0', 'up'])
    const hosts: LanHost[] = []
    for (let i = 0; i < hostCount; i++) {
      const ns = await create(`h${i}`)
      const ip = `${LAN_PREFIX}${i + 1}`
      await ns.ip(['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', bridge.name])
      await bridge.ip(['link', 'set', `p${i}`, 'master', 'br0', 'up'])
      // no duplicate address detection: the link-local address is usable at once, not after ~1 s
      await ns.exec('sysctl', ['-q', '-w', 'net.ipv6.conf.eth0.accept_dad=0'])
      if (options.ipv4 !== false) await ns.ip(['addr', 'add', `${ip}/24`, 'dev', 'eth0'])
      else await ns.ip(['-6', 'addr', 'add', `fd77::${i + 1}/64`, 'dev', 'eth0', 'nodad'])
      await ns.ip(['link', 'set', 'eth0', 'up'])
      // a multicast route, as a LAN host's default route would give: programs that send to the
      // group without naming an interface (js-libp2p's multicast-dns) need one
      if (options.ipv4 !== false) await ns.ip(['route', 'add', '224.0.0.0/4', 'dev', 'eth0'])
      hosts.push({ namespace: ns, ip })
    }
    return { hosts, destroy }
  } catch (err) {
    destroy()
    throw err
  }
}
