/**
 * Mplex wire constants and frame header encoding (libp2p/specs mplex/README.md):
 * `uvarint(streamId << 3 | flag)`, `uvarint(length)`, then `length` bytes.
 *
 * "Initiator" and "Receiver" in the flag names refer to the side that opened the stream, not to
 * the connection, so the same id can name two different streams, one opened by each side.
 */
import { encodeVarintInto, varintLength } from '../../util/varint.ts'
import type { FrameBatch } from '../frame-batch.ts'

export const MPLEX_PROTOCOL = '/mplex/6.7.0'

export const MplexFlag = {
  NewStream: 0,
  MessageReceiver: 1,
  MessageInitiator: 2,
  CloseReceiver: 3,
  CloseInitiator: 4,
  ResetReceiver: 5,
  ResetInitiator: 6
} as const
export type MplexFlag = typeof MplexFlag[keyof typeof MplexFlag]

/** Largest stream id whose header still fits a safe integer. */
export const MAX_MPLEX_STREAM_ID = Math.floor(Number.MAX_SAFE_INTEGER / 8)

/** Appends a frame header to the batch (the payload, if any, must follow via `batch.payload`). */
export function writeMplexHeader (batch: FrameBatch, streamId: number, flag: number, length: number): void {
  const header = streamId * 8 + flag
  const o = batch.reserve(varintLength(header) + varintLength(length))
  const end = encodeVarintInto(header, batch.scratch, o)
  encodeVarintInto(length, batch.scratch, end)
}
