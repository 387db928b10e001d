/**
 * What `ts-libp2p doctor` tries for one address: the transport the address names, and, for a
 * transport that needs an upgrade (TCP, WebSockets, a relayed circuit), every security
 * (noise, tls) x muxer (yamux, mplex) pair; QUIC, WebTransport and WebRTC Direct bring their
 * own security and multiplexing, so they are one probe each.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import { isRelayed } from '../../util/multiaddr.ts'

export type TransportKind = 'tcp' | 'ws' | 'wss' | 'quic-v1' | 'webtransport' | 'webrtc-direct' | 'p2p-circuit'
export type SecurityName = 'noise' | 'tls'
export type MuxerName = 'yamux' | 'mplex'

export interface Combination {
  transport: TransportKind
  /** Absent for transports that secure and multiplex themselves. */
  security?: SecurityName
  muxer?: MuxerName
}

export const SECURITIES: readonly SecurityName[] = ['noise', 'tls']
export const MUXERS: readonly MuxerName[] = ['yamux', 'mplex']

/** The transport an address is for, or undefined when ts-libp2p cannot dial it (e.g. /webrtc without a relay, /quic draft-29). */
export function transportOf (addr: Multiaddr): TransportKind | undefined {
  if (isRelayed(addr)) return 'p2p-circuit'
  const names = addr.getComponents().map(c => c.name)
  if (names.includes('webtransport')) return names.includes('quic-v1') ? 'webtransport' : undefined
  if (names.includes('webrtc-direct')) return 'webrtc-direct'
  if (names.includes('webrtc')) return undefined
  if (names.includes('quic-v1')) return 'quic-v1'
  if (names.includes('quic')) return undefined
  if (names.includes('wss') || (names.includes('tls') && names.includes('ws'))) return 'wss'
  if (names.includes('ws')) return 'ws'
  if (names.includes('tcp')) return 'tcp'
  return undefined
}

export function combinationsFor (transport: TransportKind): Combination[] {
  if (transport === 'quic-v1' || transport === 'webtransport' || transport === 'webrtc-direct') return [{ transport }]
  return SECURITIES.flatMap(security => MUXERS.map(muxer => ({ transport, security, muxer })))
}

export function combinationName (c: Combination): string {
  return c.security === undefined ? c.transport : `${c.transport}/${c.security}/${c.muxer}`
}
