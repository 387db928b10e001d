/**
 * Limits and defaults of a QUIC connection; every one bounds some state or wait.
 */
export interface QuicConfig {
  /** Idle timeout we announce (ms); the smaller of both peers' applies. */
  maxIdleTimeout: number
  /** A PING goes out after this long without sending, so NATs and the idle timer stay open (ms). */
  keepAlivePeriod: number
  /** Handshake bound (ms). */
  handshakeTimeout: number
  /** Streams the remote may open at once (bidirectional; unidirectional are refused). */
  maxIncomingStreams: number
  /** Initial / maximum receive window per stream (auto-tuned in between). */
  streamWindow: number
  maxStreamWindow: number
  /** Initial / maximum receive window per connection. */
  connectionWindow: number
  maxConnectionWindow: number
  /** Largest UDP payload we accept (transport parameter max_udp_payload_size). */
  maxUdpPayloadSize: number
  /** Largest datagram PMTU discovery probes for on loopback (elsewhere 1452). */
  maxLoopbackDatagramSize: number
  /** Incoming streams held while nobody has taken the connection yet. */
  maxPendingIncomingStreams: number
  /**
   * Packets we send in one key phase before we start a key update (RFC 9001 6; 0: only when
   * asked, `QuicConnection.updateKeys()`). Far below AES-GCM's confidentiality limit of 2^23.
   */
  keyUpdateInterval: number
  /** Congestion avoidance after slow start: NewReno (RFC 9002 7) or CUBIC (RFC 9438). */
  congestionControl: 'newreno' | 'cubic'
  /**
   * Unidirectional streams the remote may open in all (0: none, as libp2p uses only
   * bidirectional streams). HTTP/3 (WebTransport) needs a few: control and QPACK streams.
   */
  maxIncomingUniStreams: number
  /**
   * max_datagram_frame_size we announce (RFC 9221; 0: not announced, DATAGRAM frames refused).
   * HTTP/3 datagrams, which browsers require for WebTransport, need it; received DATAGRAM
   * frames are dropped (no libp2p protocol uses them).
   */
  maxDatagramFrameSize: number
  /**
   * Announce reset_stream_at (draft-ietf-quic-reliable-stream-reset), which webtransport-go's
   * dialer requires of a server. A RESET_STREAM_AT received is applied as a RESET_STREAM: data
   * below its reliable size that has not arrived yet is not waited for (a reset WebTransport
   * stream is dropped whole either way).
   */
  announceResetStreamAt: boolean
}

export const DEFAULT_QUIC_CONFIG: Readonly<QuicConfig> = {
  maxIdleTimeout: 30_000,
  keepAlivePeriod: 15_000,
  handshakeTimeout: 10_000,
  maxIncomingStreams: 512,
  streamWindow: 512 * 1024,
  maxStreamWindow: 16 * 1024 * 1024,
  connectionWindow: 1024 * 1024,
  maxConnectionWindow: 24 * 1024 * 1024,
  maxUdpPayloadSize: 65527,
  maxLoopbackDatagramSize: 16384,
  maxPendingIncomingStreams: 64,
  maxIncomingUniStreams: 0,
  maxDatagramFrameSize: 0,
  announceResetStreamAt: false,
  keyUpdateInterval: 1 << 20,
  congestionControl: 'newreno'
}

/** The smallest datagram every QUIC path must carry, where we start (RFC 9000 14). */
export const INITIAL_DATAGRAM_SIZE = 1200
/** What PMTU discovery tries first: Ethernet minus IPv6 and UDP headers. */
export const COMMON_DATAGRAM_SIZE = 1452
/** Length of the connection ids we issue. */
export const LOCAL_CID_LENGTH = 8
