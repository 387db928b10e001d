/**
 * What `ts-libp2p doctor` concludes from its probes: the problems it can name (a peer that is
 * not who the address says, advertised addresses nobody outside a private network can use, a
 * protocol advertised and refused), and the table it prints on a terminal.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { reachabilityOf, type Reachability } from '../../util/multiaddr.ts'
import type { ProbeResult } from './probe.ts'

export interface Problem {
  kind: 'dns-failed' | 'peer-id-mismatch' | 'private-address' | 'unroutable-address' | 'protocol-refused' | 'unreachable'
  message: string
}

export interface AddressReport {
  address: string
  reachability: Reachability
  /** Whether any probe of it worked; null when it was not probed (see `skipped`). */
  reachable: boolean | null
  /** Why it was not probed: no ts-libp2p transport for it, or an unroutable advertised address. */
  skipped?: string
  advertised: boolean
}

const SCOPE: Record<Reachability, number> = { unroutable: 0, loopback: 1, 'link-local': 2, private: 3, public: 4 }

/**
 * An advertised address is suspicious when it is narrower than the address the peer was
 * reached at: a peer reached over the internet that advertises 10.0.0.5 gives its other
 * peers an address only its own network can use. Unroutable ones (documentation, reserved
 * ranges) are useless to everyone.
 */
export function addressProblems (reachedAt: string, advertised: readonly string[]): Problem[] {
  const reached = reachabilityOf(multiaddr(reachedAt))
  const problems: Problem[] = []
  for (const address of advertised) {
    let class_: Reachability
    try {
      class_ = reachabilityOf(multiaddr(address))
    } catch {
      continue
    }
    if (class_ === 'unroutable') problems.push({ kind: 'unroutable-address', message: `advertises ${address}, in a documentation or reserved range that no peer can reach` })
    else if (class_ !== 'loopback' && SCOPE[class_] < SCOPE[reached]) problems.push({ kind: 'private-address', message: `advertises ${address}, a ${class_} address: only peers on that network can use it (it was reached at a ${reached} address)` })
  }
  return problems
}

function ms (value: number | undefined): string {
  return value === undefined ? '-' : value < 10 ? value.toFixed(1) : value.toFixed(0)
}

/** The probes as a fixed-width table, then the peer's identity and the problems. */
export function renderTable (report: { peerId?: string, agentVersion?: string, protocols?: string[], probes: ProbeResult[], addresses: AddressReport[], problems: Problem[], dnsMs?: number }): string {
  const rows = [['address', 'transport', 'security', 'muxer', 'result', 'connect', 'security', 'muxer', 'identify', 'ping']]
  for (const p of report.probes) {
    rows.push([p.address, p.transport, p.security ?? '(built in)', p.muxer ?? '', p.ok ? 'ok' : `FAIL (${p.failedPhase ?? '?'})`,
      ms(p.phases.connect), ms(p.phases.security), ms(p.phases.muxer), ms(p.phases.identify), ms(p.phases.ping)])
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)))
  const lines = [`peer ${report.peerId ?? '(no answer)'}${report.agentVersion !== undefined ? `  agent ${report.agentVersion}` : ''}`]
  if (report.dnsMs !== undefined) lines.push(`DNS resolution: ${ms(report.dnsMs)} ms`)
  lines.push('', ...rows.map((r, i) => r.map((cell, j) => cell.padEnd(widths[j])).join('  ').trimEnd() + (i === 0 ? '\n' + widths.map(w => '-'.repeat(w)).join('  ') : '')))
  lines.push('(times in ms)')
  const failures = report.probes.filter(p => !p.ok && p.error !== undefined)
  if (failures.length > 0) {
    lines.push('', 'failures:')
    for (const p of failures) lines.push(`  ${p.combination} ${p.address}: ${p.error}`)
  }
  const skipped = report.addresses.filter(a => a.skipped !== undefined)
  if (skipped.length > 0) lines.push('', 'not probed:', ...skipped.map(a => `  ${a.address}: ${a.skipped}`))
  if (report.protocols !== undefined) lines.push('', `protocols: ${report.protocols.join(' ')}`)
  lines.push('', report.problems.length === 0 ? 'no problems found' : 'problems:')
  for (const problem of report.problems) lines.push(`  - ${problem.message}`)
  return lines.join('\n')
}
