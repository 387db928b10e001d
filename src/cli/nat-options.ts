/**
 * The CLI's reachability flags for `start`: `--public-cidr CIDR` (repeatable) makes addresses
 * in that range count as public, for labs whose "internet" is 11.0.0.0/8 and for private
 * networks whose peers must treat each other as public (AutoNAT tests them, the observed
 * address rules apply). The one classifier is util/multiaddr.ts's reachabilityOf.
 */
import { parsePublicRanges } from '../util/multiaddr.ts'
import { UsageError } from './args.ts'

export const NAT_HELP = `  --public-cidr CIDR  treat addresses in CIDR (11.0.0.0/8, fd00::/8) as public, repeatable`

export const NAT_OPTIONS = {
  'public-cidr': { type: 'string', multiple: true }
} as const

export function parseNatOptions (values: { 'public-cidr'?: string[] }): { publicCidrs: string[] } {
  const publicCidrs = values['public-cidr'] ?? []
  try {
    parsePublicRanges(publicCidrs)
  } catch (err) {
    throw new UsageError(`--public-cidr: ${(err as Error).message}`)
  }
  return { publicCidrs }
}
