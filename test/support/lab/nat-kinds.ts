/**
 * The router behaviours the lab can give each home router, as iptables rules on a router
 * namespace whose WAN interface is `wan` (toward the "internet") and LAN interface is `lan`.
 * The names follow RFC 4787's terms: a mapping is endpoint-independent (EIM: one public port per
 * private socket, whatever the destination; Linux MASQUERADE keeps the private port when free)
 * or endpoint-dependent (EDM: a new random public port per destination, `--random-fully`).
 * Every kind filters unsolicited inbound packets like a home router except `fullcone`, which
 * forwards a port range to the host (a manual port forward).
 */
import { runIn } from './commands.ts'

export type NatKind =
  /** EIM, port preserved; unsolicited packets to the router are dropped silently (most home routers). */
  | 'eim'
  /** EIM, but the router answers unsolicited SYNs with RST (Linux's default for a closed port). */
  | 'eim-rst'
  /** EDM ("symmetric"): a new random public port per connection; hole punching cannot work. */
  | 'edm'
  /** EIM plus a forward of TCP ports 20000-60000 to the host: reachable from anywhere. */
  | 'fullcone'

export const NAT_KINDS: readonly NatKind[] = ['eim', 'eim-rst', 'edm', 'fullcone']

/** The forwarded range of a `fullcone` router: listen inside it to be reachable. */
export const FULL_CONE_PORTS = { first: 20000, last: 60000 } as const

/** The iptables invocations (argument lists) that give a router namespace the behaviour `kind`. */
export function natRules (kind: NatKind, hostAddress: string): string[][] {
  const rules: string[][] = [
    ['-F'], ['-t', 'nat', '-F'],
    kind === 'edm'
      ? ['-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE', '--random-fully']
      : ['-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE']
  ]
  if (kind === 'fullcone') {
    rules.push(['-t', 'nat', '-A', 'PREROUTING', '-i', 'wan', '-p', 'tcp', '--dport', `${FULL_CONE_PORTS.first}:${FULL_CONE_PORTS.last}`, '-j', 'DNAT', '--to-destination', hostAddress])
  }
  // Inbound through the router: only replies to what the host started (and forwarded ports).
  rules.push(['-A', 'FORWARD', '-i', 'wan', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT'])
  if (kind === 'fullcone') rules.push(['-A', 'FORWARD', '-i', 'wan', '-m', 'conntrack', '--ctstate', 'DNAT', '-j', 'ACCEPT'])
  rules.push(['-A', 'FORWARD', '-i', 'wan', '-j', 'DROP'])
  // An unsolicited SYN to a public port with no mapping is addressed to the router itself, whose
  // kernel would answer RST: home routers stay silent instead, and the RST kills a punch whose
  // own SYN has not left yet. 'eim-rst' keeps the RST to test exactly that.
  if (kind !== 'eim-rst') rules.push(['-A', 'INPUT', '-i', 'wan', '-m', 'conntrack', '--ctstate', 'NEW,INVALID', '-j', 'DROP'])
  return rules
}

/** Replaces the router's rules with those of `kind` and forgets existing mappings. */
export async function applyNat (routerNamespace: string, kind: NatKind, hostAddress: string): Promise<void> {
  for (const rule of natRules(kind, hostAddress)) await runIn(routerNamespace, 'iptables', rule)
  // Old conntrack entries would keep old mappings alive across a change of kind.
  await runIn(routerNamespace, 'conntrack', ['-F']).catch(() => {})
}
