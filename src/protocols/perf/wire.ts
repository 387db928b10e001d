/**
 * The wire format of `/perf/1.0.0` (specs perf/perf.md): the client's 8-byte big-endian
 * request for how many bytes it wants back, and the one 64 KiB block of zeros that both sides
 * send over and over (the content is irrelevant, and a shared, never-mutated block means the
 * data path allocates nothing).
 */
import { InvalidParametersError } from '../../util/errors.ts'

export const PERF_PROTOCOL = '/perf/1.0.0'

/** go-libp2p and js-libp2p write 64 KiB blocks; so do we. */
export const PERF_BLOCK_SIZE = 64 * 1024

/** Length of the request that opens every perf stream. */
export const PERF_REQUEST_LENGTH = 8

const TWO_POW_32 = 0x1_0000_0000

let zeroBlock: Uint8Array | undefined

/**
 * The block every perf sender sends. Shared by all streams: stream layers keep chunks by
 * reference until they are written, which is safe because nobody ever writes into it.
 */
export function perfBlock (): Uint8Array {
  zeroBlock ??= new Uint8Array(PERF_BLOCK_SIZE)
  return zeroBlock
}

/** Throws an InvalidParametersError unless `bytes` is a non-negative safe integer. */
export function checkPerfByteCount (bytes: number, what: string): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new InvalidParametersError(`${what} must be a non-negative safe integer, got ${bytes}`)
}

/** The 8-byte request for `bytes` (a non-negative safe integer) back. */
export function encodePerfRequest (bytes: number): Uint8Array {
  checkPerfByteCount(bytes, 'the download size')
  const out = new Uint8Array(PERF_REQUEST_LENGTH)
  const view = new DataView(out.buffer)
  view.setUint32(0, Math.floor(bytes / TWO_POW_32))
  view.setUint32(4, bytes % TWO_POW_32)
  return out
}

/**
 * How many bytes an 8-byte request asks for. Values past 2^53 - 1 (the spec allows up to
 * 2^64 - 1, meaning "until I hang up") are clamped to Number.MAX_SAFE_INTEGER: at 100 Gbit/s
 * that still takes more than eight days to send.
 */
export function decodePerfRequest (bytes: Uint8Array): number {
  if (bytes.length !== PERF_REQUEST_LENGTH) throw new InvalidParametersError(`a perf request is ${PERF_REQUEST_LENGTH} bytes, got ${bytes.length}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const high = view.getUint32(0)
  const low = view.getUint32(4)
  // 2^53 = 2^21 * 2^32: a high word of 2^21 or more is beyond the safe range
  if (high >= 0x20_0000) return Number.MAX_SAFE_INTEGER
  return high * TWO_POW_32 + low
}
