/**
 * `ts-libp2p doctor MA`: probes a remote peer across every transport it advertises that we
 * speak, every security and muxer, and says what works, how long each phase takes, and what
 * looks wrong. See the help text for the output.
 */
import { parseArgs } from 'node:util'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Command } from '../cli.ts'
import { parseMultiaddr, parsePositiveInt, UsageError, oneLine } from '../args.ts'
import { createProgress } from '../progress.ts'
import { delay } from '../../util/timers.ts'
import { interruptOnSignal, INTERRUPTED_EXIT_CODE } from '../interrupt.ts'
import { isRelayed, peerIdStringOf, reachabilityOf, withoutPeerId } from '../../util/multiaddr.ts'
import { combinationsFor, transportOf, type Combination } from '../doctor/plan.ts'
import { probe, type ProbeResult } from '../doctor/probe.ts'
import { addressProblems, renderTable, type AddressReport, type Problem } from '../doctor/report.ts'

/** Addresses probed at most (the given ones first, then what the peer advertises). */
const MAX_ADDRESSES = 32
/**
 * Probes start at least this far apart: each is a new connection from our address, and nodes
 * rate-limit those per host (go and ours admit 5 a second; ours not from loopback unless
 * limitLoopback); a probe refused for coming too
 * fast would report a failure that is not the peer's.
 */
const PROBE_SPACING_MS = 300

export const doctorCommand: Command = {
  help: `Usage: ts-libp2p doctor MA [--json] [--timeout MS] [--given-only]

Probes the peer at MA with a throwaway identity: first MA itself, then every address the peer
advertises through identify, each with every combination ts-libp2p speaks (tcp and ws: noise
and tls x yamux and mplex; quic-v1, webtransport and webrtc-direct as they are). For each it
reports the time of each phase (DNS, connect, security, muxer, identify, first ping) or the
phase that failed and why; then the peer's agent and protocols, which advertised addresses
are reachable from here, and what looks wrong: a peer that is not the /p2p id of MA,
advertised addresses only a private network can use (or no one), protocols it advertises but
refuses to negotiate.

A table on stdout (a spinner on stderr while probing, on a terminal); --json prints one JSON
object instead: {"peerId","expectedPeerId","agentVersion","protocolVersion","protocols",
"dnsMs","probes":[{"address","combination","transport","security","muxer","ok","phases":
{"connect","security","muxer","identify","ping"},"failedPhase","error"}],"addresses":[{"address",
"reachability","reachable","advertised"}],"problems":[{"kind","message"}],"ok"}.
Exits 0 when at least one combination works with the right peer, 1 otherwise, 130 on Ctrl-C.

Options:
  --json        one JSON object instead of the table
  --timeout MS  budget of one probe (default 10000)
  --given-only  probe MA only, not the addresses the peer advertises
  --dns-server IP  DNS server for a /dns* or /dnsaddr MA (IP or IP:PORT), repeatable
                (default: the system's); a name that does not resolve is a dns-failed problem
  -h, --help    show this help`,
  async run (argv) {
    const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false }, timeout: { type: 'string' }, 'given-only': { type: 'boolean', default: false }, 'dns-server': { type: 'string', multiple: true } }, strict: true, allowPositionals: true })
    if (positionals.length !== 1) throw new UsageError('doctor needs exactly one multiaddr')
    const target = parseMultiaddr(positionals[0])
    const timeout = parsePositiveInt(values.timeout, 'timeout', 10_000)
    const interrupt = interruptOnSignal()
    const progress = createProgress({ label: 'probing' })
    try {
      const report = await diagnose(target, { timeout, givenOnly: values['given-only'] === true, dnsServers: values['dns-server'], signal: interrupt.signal, onProbe: (n, total, what) => { progress.setTotal(total); progress.update(n, what) } })
      progress.done()
      const code = report.ok ? 0 : 1
      process.stdout.write((values.json === true ? JSON.stringify(report) : renderTable(report)) + '\n')
      return code
    } catch (err) {
      progress.done()
      if (interrupt.signal.aborted) {
        process.stderr.write('ts-libp2p: doctor interrupted\n')
        return INTERRUPTED_EXIT_CODE
      }
      throw err
    } finally {
      interrupt.dispose()
    }
  }
}

export interface DoctorReport {
  peerId?: string
  expectedPeerId?: string
  agentVersion?: string
  protocolVersion?: string
  protocols?: string[]
  dnsMs?: number
  probes: ProbeResult[]
  addresses: AddressReport[]
  problems: Problem[]
  ok: boolean
}

interface DiagnoseOptions {
  timeout: number
  givenOnly: boolean
  /** DNS servers for a host-named MA (IP or IP:PORT); the system's when absent. */
  dnsServers?: string[]
  signal: AbortSignal
  onProbe?: (done: number, total: number, what: string) => void
}

/** An advertised address as something to dial: relayed ones need the peer's id at the end. */
function dialable (address: string, peerId: string | undefined): Multiaddr | undefined {
  try {
    const addr = multiaddr(address)
    if (isRelayed(addr) && peerIdStringOf(addr) === undefined && peerId !== undefined) return addr.encapsulate(`/p2p/${peerId}`)
    return addr
  } catch {
    return undefined
  }
}

/**
 * MA's addresses: itself, or what its name resolves to (timed). A name that does not resolve
 * (or to nothing) is reported as a problem, with the time it took, rather than thrown.
 */
async function resolve (target: Multiaddr, signal: AbortSignal, servers: string[] | undefined): Promise<{ addrs: Multiaddr[], ms?: number, problem?: Problem }> {
  const { needsDnsResolution, resolveMultiaddr, dnsResolver, DnsResolutionError } = await import('../../dns/index.ts')
  if (!needsDnsResolution(target)) return { addrs: [target] }
  const started = performance.now()
  try {
    const addrs = await resolveMultiaddr(target, dnsResolver(servers !== undefined && servers.length > 0 ? { servers } : undefined), { signal })
    const ms = performance.now() - started
    if (addrs.length === 0) return { addrs, ms, problem: { kind: 'dns-failed', message: `${target.toString()} resolves to no address` } }
    return { addrs, ms }
  } catch (err) {
    if (signal.aborted || !(err instanceof DnsResolutionError)) throw err
    return { addrs: [], ms: performance.now() - started, problem: { kind: 'dns-failed', message: `${target.toString()} does not resolve: ${oneLine(err)}` } }
  }
}

export async function diagnose (target: Multiaddr, options: DiagnoseOptions): Promise<DoctorReport> {
  const expectedPeerId = peerIdStringOf(target)
  const report: DoctorReport = { expectedPeerId, probes: [], addresses: [], problems: [], ok: false }
  const { addrs: given, ms, problem } = await resolve(target, options.signal, options.dnsServers)
  if (ms !== undefined) report.dnsMs = ms
  if (problem !== undefined) {
    report.problems.push(problem)
    return report
  }
  const queue: Array<{ addr: Multiaddr, advertised: boolean }> = given.map(addr => ({ addr, advertised: false }))
  const seen = new Set<string>()
  let probesDone = 0
  let probesPlanned = 0
  let protocolsChecked = false
  let lastProbeStart = Number.NEGATIVE_INFINITY

  for (let i = 0; i < queue.length && i < MAX_ADDRESSES; i++) {
    const { addr, advertised } = queue[i]
    const key = addr.toString()
    // the address MA names and the same one advertised (without /p2p) are one address
    const identity = isRelayed(addr) ? key : withoutPeerId(addr).toString()
    if (seen.has(identity)) continue
    seen.add(identity)
    const transport = transportOf(addr)
    const entry: AddressReport = { address: key, reachability: reachabilityOf(addr), reachable: false, advertised }
    report.addresses.push(entry)
    if (transport === undefined) {
      entry.reachable = null
      entry.skipped = 'no ts-libp2p transport for it'
      continue
    }
    if (advertised && entry.reachability === 'unroutable') {
      // documentation and reserved ranges lead nowhere: not dialed (no packet leaves for them)
      entry.reachable = null
      entry.skipped = 'unroutable: no peer can reach it'
      continue
    }
    const combinations = combinationsFor(transport)
    probesPlanned += combinations.length
    let unreachable: ProbeResult | undefined
    for (const combination of combinations) {
      options.signal.throwIfAborted()
      options.onProbe?.(probesDone, probesPlanned, `${key} ${combination.transport}`)
      let result: ProbeResult
      if (unreachable !== undefined) {
        result = skipped(unreachable, combination)
      } else {
        const wait = lastProbeStart + PROBE_SPACING_MS - performance.now()
        // a kept timer: between two probes nothing else holds the process open
        if (wait > 0) await delay(wait, options.signal, { keepAlive: true })
        lastProbeStart = performance.now()
        result = await probe(addr, combination, { timeout: options.timeout, signal: options.signal, checkProtocols: !protocolsChecked })
      }
      probesDone++
      options.signal.throwIfAborted()
      // an address that does not connect at all will not connect with another security
      if (!result.ok && result.failedPhase === 'connect') unreachable = result
      if (result.ok && expectedPeerId !== undefined && result.peerId !== expectedPeerId) {
        result.ok = false
        result.failedPhase = 'security'
        result.error = `peer id mismatch: the peer at this address is ${result.peerId}, not ${expectedPeerId}`
      }
      report.probes.push(result)
      if (result.ok) {
        entry.reachable = true
        if (report.peerId === undefined) {
          report.peerId = result.peerId
          report.agentVersion = result.agentVersion
          report.protocolVersion = result.protocolVersion
          report.protocols = result.protocols
          report.problems.push(...addressProblems(key, result.listenAddrs ?? []))
          if (!options.givenOnly) {
            for (const address of result.listenAddrs ?? []) {
              const next = dialable(address, result.peerId)
              if (next !== undefined) queue.push({ addr: next, advertised: true })
            }
          }
        }
        if (result.refusedProtocols !== undefined) {
          protocolsChecked = true
          for (const protocol of result.refusedProtocols) report.problems.push({ kind: 'protocol-refused', message: `advertises ${protocol} but refused to negotiate it` })
        }
      }
    }
  }
  for (const probeResult of report.probes) {
    if (probeResult.error?.startsWith('peer id mismatch') === true && !report.problems.some(p => p.kind === 'peer-id-mismatch')) {
      report.problems.push({ kind: 'peer-id-mismatch', message: `${probeResult.address} answers as ${probeResult.peerId}, not ${expectedPeerId}: a different peer (or a lie) behind the address` })
    }
    if (report.peerId === undefined && probeResult.peerId !== undefined) report.peerId = probeResult.peerId
  }
  const advertisedDown = report.addresses.filter(a => a.advertised && a.reachable === false)
  if (advertisedDown.length > 0) report.problems.push({ kind: 'unreachable', message: `advertised but not reachable from here: ${advertisedDown.map(a => a.address).join(', ')}` })
  report.ok = report.probes.some(p => p.ok)
  return report
}

/** The result of a combination not tried because its address did not connect at all. */
function skipped (failed: ProbeResult, combination: Combination): ProbeResult {
  return { ...failed, combination: combination.security === undefined ? combination.transport : `${combination.transport}/${combination.security}/${combination.muxer}`, security: combination.security, muxer: combination.muxer, error: `not tried: ${oneLine(failed.error)}` }
}
