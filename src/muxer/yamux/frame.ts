/**
 * Yamux wire constants and the 12-byte frame header (libp2p/specs yamux/README.md):
 * version(1) type(1) flags(2) streamId(4) length(4), all big-endian.
 */
import type { FrameBatch } from '../frame-batch.ts'

export const YAMUX_PROTOCOL = '/yamux/1.0.0'
export const YAMUX_VERSION = 0
export const HEADER_LENGTH = 12
/** Every stream starts with this receive window on both sides (spec: 256 KiB). */
export const INITIAL_STREAM_WINDOW = 256 * 1024

export const FrameType = {
  Data: 0,
  WindowUpdate: 1,
  Ping: 2,
  GoAway: 3
} as const
export type FrameType = typeof FrameType[keyof typeof FrameType]

export const Flag = {
  SYN: 1,
  ACK: 2,
  FIN: 4,
  RST: 8
} as const

export const GoAwayCode = {
  Normal: 0,
  ProtocolError: 1,
  InternalError: 2
} as const
export type GoAwayCode = typeof GoAwayCode[keyof typeof GoAwayCode]

/** Appends a header to the batch (the payload, if any, must follow via `batch.payload`). */
export function writeHeader (batch: FrameBatch, type: number, flags: number, streamId: number, length: number): void {
  const o = batch.reserve(HEADER_LENGTH)
  const b = batch.scratch
  b[o] = YAMUX_VERSION
  b[o + 1] = type
  b[o + 2] = flags >>> 8
  b[o + 3] = flags & 0xff
  b[o + 4] = streamId >>> 24
  b[o + 5] = (streamId >>> 16) & 0xff
  b[o + 6] = (streamId >>> 8) & 0xff
  b[o + 7] = streamId & 0xff
  b[o + 8] = length >>> 24
  b[o + 9] = (length >>> 16) & 0xff
  b[o + 10] = (length >>> 8) & 0xff
  b[o + 11] = length & 0xff
}

/** Reads a big-endian u32 at `offset`. */
export function readU32 (b: Uint8Array, offset: number): number {
  return ((b[offset] << 24) >>> 0) + (b[offset + 1] << 16) + (b[offset + 2] << 8) + b[offset + 3]
}
