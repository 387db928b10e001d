/**
 * /perf/1.0.0 (libp2p specs perf/perf.md) on js-libp2p's stream API: the request and the send
 * loop of the two js-libp2p programs that speak it, interop/js-peer/peer.ts (the interop peer's
 * server and `perf` command) and interop/test-plans/js-perf.ts (the js side of the perf
 * contract). Written here because the @libp2p/perf package is not in the registry this
 * project installs from.
 */
import type { Stream } from '@libp2p/interface'

export const PERF_PROTOCOL = '/perf/1.0.0'

/** What @libp2p/perf writes per send by default (its writeBlockSize). */
export const PERF_BLOCK_SIZE = 64 * 1024

/** The 8-byte big-endian request: how many bytes the client wants back. */
export function encodePerfRequest (bytes: number): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(bytes))
  return out
}

/** How many bytes an 8-byte request asks for, clamped to Number.MAX_SAFE_INTEGER. */
export function decodePerfRequest (request: Uint8Array): number {
  const wanted = new DataView(request.buffer, request.byteOffset, request.byteLength).getBigUint64(0)
  return wanted > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(wanted)
}

/**
 * Sends `bytes` bytes of one reused zero block, waiting for the stream to drain when it asks;
 * `onSent` sees each block's length as it is queued. Returns the bytes sent.
 */
export async function sendZeros (stream: Stream, bytes: number, signal: AbortSignal, onSent?: (n: number) => void): Promise<number> {
  const block = new Uint8Array(PERF_BLOCK_SIZE)
  let sent = 0
  while (sent < bytes) {
    const n = Math.min(PERF_BLOCK_SIZE, bytes - sent)
    const accepted = stream.send(n === PERF_BLOCK_SIZE ? block : block.subarray(0, n))
    sent += n
    onSent?.(n)
    if (!accepted) await stream.onDrain({ signal })
  }
  return sent
}
