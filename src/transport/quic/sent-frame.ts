/**
 * What a sent packet carried, so an acknowledgement can release it and a loss can schedule it
 * again (RFC 9000 13.3: what is retransmitted is information, not packets).
 */
import type { QuicStream } from './stream.ts'

export type SentFrame =
  | { kind: 'stream', stream: QuicStream, offset: number, length: number, fin: boolean }
  | { kind: 'crypto', level: number, offset: number, length: number }
  | { kind: 'reset_stream', stream: QuicStream }
  | { kind: 'stop_sending', stream: QuicStream }
  | { kind: 'max_stream_data', stream: QuicStream }
  | { kind: 'max_data' }
  | { kind: 'max_streams' }
  | { kind: 'handshake_done' }
  | { kind: 'ping' }
  /** A PMTU probe of `size` bytes: acknowledged means the path carries datagrams that large. */
  | { kind: 'pmtu_probe', size: number }
  /** An ACK frame up to `largest`: once acknowledged, older ranges need not be repeated. */
  | { kind: 'ack', largest: number }
