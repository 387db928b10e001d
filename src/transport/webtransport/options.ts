/**
 * Options of the WebTransport transport. Browser-safe (types and a pure helper only).
 */
import type { QuicConfig } from '../quic/config.ts'

export interface WebTransportNodeOptions {
  /**
   * Where the listener keeps its two certificates (JSON with their keys, mode 0600) so its
   * certhashes, and so its addresses, survive restarts while valid. Absent: memory only.
   */
  certificateFile?: string
  /** QUIC limits for WebTransport connections (HTTP/3's own needs are added). */
  quic?: Partial<QuicConfig>
  /** Server handshakes in progress before new clients must answer a Retry (QUIC). */
  retryThreshold?: number
  /** The clock for certificate validity (tests move it). */
  now?: () => number
}

export interface WebTransportOptions extends WebTransportNodeOptions {
  /** Bound on one dial: QUIC handshake, CONNECT and Noise (ms, default 10 000). */
  dialTimeout?: number
}

/** QUIC settings HTTP/3 needs on top of `base`: peer unidirectional streams, datagrams offered, reset_stream_at (webtransport-go requires both of a server). */
export function h3QuicConfig (base: Partial<QuicConfig> = {}): Partial<QuicConfig> {
  return { ...base, maxIncomingUniStreams: 16, maxDatagramFrameSize: 65_535, announceResetStreamAt: true }
}
