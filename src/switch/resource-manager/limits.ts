/**
 * Resource limits per scope, after go-libp2p's resource manager: how many connections and
 * streams (each way and in total) and how much memory a scope may hold. A limit left out is
 * unlimited. Defaults scale with the machine: `scaledLimits(memory, fds)` gives the system and
 * per-peer limits for a machine with that much memory and that many file descriptors.
 */

export interface ScopeLimits {
  connsInbound?: number
  connsOutbound?: number
  conns?: number
  streamsInbound?: number
  streamsOutbound?: number
  streams?: number
  /** Bytes of buffers (muxer windows, queues) reserved at once. */
  memory?: number
  /** Sockets (connections on a transport with a file descriptor). */
  fds?: number
}

export type LimitName = keyof ScopeLimits

export interface ResourceLimits {
  /** Everything the node holds. */
  system: ScopeLimits
  /** Connections and streams not yet tied to a peer or protocol (handshakes, negotiations). */
  transient: ScopeLimits
  /** Each peer. */
  peer: ScopeLimits
  /** Each protocol, all peers together (per-protocol `maxInboundStreams` still applies per connection). */
  protocol: ScopeLimits
  /** Connections from one IPv4 address (/32) or IPv6 /64. */
  ip: ScopeLimits
  /** Connections from one IPv4 /24 or IPv6 /48. */
  subnet: ScopeLimits
  /** Connections from an allowlisted address: they count here instead of against ip/subnet, and
   * their transient and system limits are these. */
  allowlisted: ScopeLimits
}

const MiB = 1024 * 1024

/**
 * Limits for a machine with `memoryBytes` of memory and `fdLimit` file descriptors: the
 * system may use 1/8 of the memory and half the descriptors; connections scale with both (one
 * per 64 KiB of the memory share, at least 128), streams are 16 per connection, a peer may hold
 * 8 connections and 512 streams, an address 8 connections and a /24 or /48 32.
 */
export function scaledLimits (memoryBytes: number, fdLimit: number): ResourceLimits {
  const memory = Math.max(64 * MiB, Math.floor(memoryBytes / 8))
  const fds = Math.max(64, Math.floor(fdLimit / 2))
  const conns = Math.max(128, Math.min(Math.floor(memory / (64 * 1024)), fds * 2))
  return {
    system: { conns, connsInbound: Math.floor(conns / 2), connsOutbound: conns, streams: conns * 16, streamsInbound: conns * 8, streamsOutbound: conns * 16, memory, fds },
    transient: { conns: Math.max(64, Math.floor(conns / 4)), connsInbound: Math.max(32, Math.floor(conns / 8)), connsOutbound: Math.max(64, Math.floor(conns / 4)), streams: 512, streamsInbound: 256, streamsOutbound: 512, memory: Math.floor(memory / 16), fds: Math.max(32, Math.floor(fds / 4)) },
    peer: { conns: 8, connsInbound: 8, connsOutbound: 8, streams: 1024, streamsInbound: 512, streamsOutbound: 1024, memory: 64 * MiB, fds: 8 },
    protocol: { streams: conns * 8, streamsInbound: conns * 4, streamsOutbound: conns * 8 },
    ip: { conns: 8, connsInbound: 8 },
    subnet: { conns: 32, connsInbound: 32 },
    allowlisted: { conns: 1024, connsInbound: 1024, connsOutbound: 1024, streams: 16384, streamsInbound: 8192, streamsOutbound: 16384, memory: 256 * MiB, fds: 512 }
  }
}

/** The defaults merged with what the caller gave, scope by scope and limit by limit. */
export function mergeLimits (base: ResourceLimits, overrides: Partial<{ [K in keyof ResourceLimits]: Partial<ScopeLimits> }> = {}): ResourceLimits {
  const out = { ...base }
  for (const key of Object.keys(overrides) as Array<keyof ResourceLimits>) out[key] = { ...base[key], ...overrides[key] }
  return out
}
