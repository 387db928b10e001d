/**
 * The CLI's resource-manager flags for `start`: `--allow ADDR` (allowlist: a CIDR or a
 * multiaddr, repeatable), `--conns-per-ip N` and `--conns-per-subnet N` (IPv4 /32 and /24,
 * IPv6 /64 and /48), `--limit-loopback` (those limits, the per-address handshake limits and the handshake rate
 * count 127.0.0.x and ::1 by address too: for labs and attack tests on one machine),
 * `--limit-private-subnets` (the per-subnet limits count private and link-local ranges too;
 * by default a LAN's peers are limited per address only),
 * `--no-limits` (no resource manager). Everything else keeps the defaults
 * scaled from the machine (README, "Limits").
 */
import type { ResourceManagerOptions } from '../switch/resource-manager/index.ts'
import { parsePositiveInt, UsageError } from './args.ts'

export const LIMIT_HELP = `  --allow ADDR     allowlist a CIDR (10.0.0.0/8) or multiaddr: its own, larger limits; repeatable
  --conns-per-ip N      connections one IPv4 address (IPv6 /64) may hold (default 8)
  --conns-per-subnet N  connections one IPv4 /24 (IPv6 /48) may hold (default 32)
  --limit-loopback apply the per-address limits and the per-host handshake rate to loopback
                   addresses too (labs, attack tests)
  --limit-private-subnets  apply the per-subnet limits to private (LAN) ranges too
  --no-limits      run without the resource manager`

export const LIMIT_OPTIONS = {
  allow: { type: 'string', multiple: true },
  'conns-per-ip': { type: 'string' },
  'conns-per-subnet': { type: 'string' },
  'limit-loopback': { type: 'boolean', default: false },
  'limit-private-subnets': { type: 'boolean', default: false },
  'no-limits': { type: 'boolean', default: false }
} as const

export function parseLimitOptions (values: { allow?: string[], 'conns-per-ip'?: string, 'conns-per-subnet'?: string, 'limit-loopback'?: boolean, 'limit-private-subnets'?: boolean, 'no-limits'?: boolean }): ResourceManagerOptions | false {
  const tuned = values.allow !== undefined || values['conns-per-ip'] !== undefined || values['conns-per-subnet'] !== undefined || values['limit-loopback'] === true || values['limit-private-subnets'] === true
  if (values['no-limits'] === true) {
    if (tuned) throw new UsageError('--no-limits cannot be combined with --allow, --conns-per-* or --limit-*')
    return false
  }
  const options: ResourceManagerOptions = {}
  if (values['limit-loopback'] === true) options.limitLoopback = true
  if (values['limit-private-subnets'] === true) options.limitPrivateSubnets = true
  if (values.allow !== undefined) options.allowlist = values.allow
  const limits: NonNullable<ResourceManagerOptions['limits']> = {}
  if (values['conns-per-ip'] !== undefined) limits.ip = { conns: parsePositiveInt(values['conns-per-ip'], 'conns-per-ip', 0) }
  if (values['conns-per-subnet'] !== undefined) limits.subnet = { conns: parsePositiveInt(values['conns-per-subnet'], 'conns-per-subnet', 0) }
  if (Object.keys(limits).length > 0) options.limits = limits
  return options
}
