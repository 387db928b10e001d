/**
 * A real UPnP IGD + NAT-PMP router for the lab: Debian's miniupnpd (nftables build) run inside
 * a router namespace, from binaries that scripts/fetch-miniupnpd.sh extracts into
 * .cache/lab/miniupnpd (never installed, so no service starts on the host). The router gets an
 * nftables table for miniupnpd's rules and a FORWARD rule that lets port-forwarded (DNAT)
 * connections through the lab's home-router filter, as a real UPnP router does. `upnpc -l`
 * (miniupnpc) reads the router's mapping table from a LAN host, so tests see what the router
 * holds, not what our node believes.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { natLabUnavailableReason } from './availability.ts'
import type { NetworkNamespace } from './namespace.ts'
import { processLines, type ProcessLines } from './process-lines.ts'

const REPO = fileURLToPath(new URL('../../../', import.meta.url))
const FETCH_SCRIPT = join(REPO, 'scripts', 'fetch-miniupnpd.sh')
export const MINIUPNPD_ROOT = join(REPO, '.cache', 'lab', 'miniupnpd', 'root')
const LIBS = join(MINIUPNPD_ROOT, 'usr', 'lib', 'x86_64-linux-gnu')
const bin = (path: string): string => join(MINIUPNPD_ROOT, path)

let cached: Promise<string | undefined> | undefined

/** Why miniupnpd cannot run here (no lab, no Debian packages), or undefined. */
export async function miniupnpdUnavailableReason (): Promise<string | undefined> {
  cached ??= (async () => {
    const lab = await natLabUnavailableReason()
    if (lab !== undefined) return lab
    if (process.arch !== 'x64') return `the lab's miniupnpd comes from Debian's amd64 packages (this is ${process.arch})`
    if (!existsSync(bin('usr/sbin/miniupnpd')) || !existsSync(bin('usr/bin/upnpc'))) {
      try {
        execFileSync('bash', [FETCH_SCRIPT], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 })
      } catch (err) {
        return `miniupnpd could not be fetched (scripts/fetch-miniupnpd.sh): ${(err as Error).message}`
      }
    }
    return undefined
  })()
  return await cached
}

/** The node:test `skip` option: the reason, or false; under CI=true it throws instead of skipping. */
export async function miniupnpdSkip (): Promise<string | false> {
  const reason = await miniupnpdUnavailableReason()
  if (reason === undefined) return false
  if (process.env.CI === 'true') throw new Error(`CI must run the miniupnpd lab, but ${reason}`)
  return reason
}

export interface RouterMapping {
  protocol: 'TCP' | 'UDP'
  externalPort: number
  internalClient: string
  internalPort: number
  description: string
  leaseSeconds: number
}

export interface Miniupnpd {
  readonly process: ProcessLines
  /** The log lines read so far with nextLogLine (miniupnpd -d writes to stderr, merged into stdout). */
  log(): string
  /** Waits for a log line. */
  nextLogLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>
  /** The router's table, read with `upnpc -l` from `lanHost` (a namespace on its LAN). */
  listMappings(lanHost: NetworkNamespace): Promise<RouterMapping[]>
  stop(): Promise<void>
}

export interface MiniupnpdOptions {
  /** A private directory for the config, pid and lease files. */
  dir: string
  /** The router's LAN address (miniupnpd's HTTP server listens there). */
  lanAddress: string
  /** Which LAN clients may map (default 10.0.0.0/24). */
  allowCidr?: string
}

export const MINIUPNPD_HTTP_PORT = 5000

/**
 * Starts miniupnpd in `router` (WAN interface `wan`, LAN interface `lan`), resolving once it
 * listens for both UPnP and NAT-PMP.
 */
export async function startMiniupnpd (router: NetworkNamespace, options: MiniupnpdOptions): Promise<Miniupnpd> {
  const nftRules = join(options.dir, 'miniupnpd.nft')
  const config = join(options.dir, 'miniupnpd.conf')
  // The base chains miniupnpd adds its rules to (its config names them below).
  await writeFile(nftRules, [
    'table inet miniupnpd {',
    '  chain forward { type filter hook forward priority 0; policy accept; }',
    '  chain prerouting { type nat hook prerouting priority -100; policy accept; }',
    '  chain postrouting { type nat hook postrouting priority 100; policy accept; }',
    '}', ''].join('\n'))
  await writeFile(config, [
    'ext_ifname=wan', 'listening_ip=lan', `port=${MINIUPNPD_HTTP_PORT}`, 'enable_natpmp=yes', 'enable_upnp=yes', 'secure_mode=yes',
    'system_uptime=yes', 'notify_interval=60', 'clean_ruleset_interval=600', 'uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b',
    'upnp_table_name=miniupnpd', 'upnp_nat_table_name=miniupnpd', 'upnp_forward_chain=forward', 'upnp_nat_chain=prerouting',
    'upnp_nat_postrouting_chain=postrouting', `lease_file=${join(options.dir, 'leases')}`,
    `allow 1024-65535 ${options.allowCidr ?? '10.0.0.0/24'} 1024-65535`, 'deny 0-65535 0.0.0.0/0 0-65535', ''].join('\n'))
  await router.exec('env', [`LD_LIBRARY_PATH=${LIBS}`, bin('usr/sbin/nft'), '-f', nftRules])
  // The lab's routers drop unsolicited inbound traffic; a UPnP router lets its port forwards in.
  await router.exec('iptables', ['-I', 'FORWARD', '1', '-i', 'wan', '-m', 'conntrack', '--ctstate', 'DNAT', '-j', 'ACCEPT'])
  const child = processLines(router.spawn('sh', ['-c', 'exec env LD_LIBRARY_PATH="$0" "$1" -d -f "$2" -P "$3" 2>&1',
    LIBS, bin('usr/sbin/miniupnpd'), config, join(options.dir, 'miniupnpd.pid')]))
  let log = ''
  const nextLogLine = async (match: (line: string) => boolean, timeoutMs = 20_000): Promise<string> => await child.nextLine(line => { log += line + '\n'; return match(line) }, timeoutMs)
  try {
    await nextLogLine(line => line.includes('HTTP listening on port'))
    await nextLogLine(line => line.includes('Listening for NAT-PMP'))
  } catch (err) {
    await child.stop()
    throw err
  }
  return {
    process: child,
    log: () => log,
    nextLogLine,
    async listMappings (lanHost) {
      const out = await lanHost.exec('env', [`LD_LIBRARY_PATH=${LIBS}`, bin('usr/bin/upnpc'), '-u', `http://${options.lanAddress}:${MINIUPNPD_HTTP_PORT}/rootDesc.xml`, '-l'])
      const mappings: RouterMapping[] = []
      for (const line of out.split('\n')) {
        const m = /^\s*\d+\s+(TCP|UDP)\s+(\d+)->([\d.]+):(\d+)\s+'([^']*)'\s+'[^']*'\s+(\d+)/.exec(line)
        if (m !== null) mappings.push({ protocol: m[1] as 'TCP' | 'UDP', externalPort: Number(m[2]), internalClient: m[3], internalPort: Number(m[4]), description: m[5], leaseSeconds: Number(m[6]) })
      }
      return mappings
    },
    async stop () { await child.stop() }
  }
}
