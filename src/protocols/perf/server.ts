/**
 * The server side of `/perf/1.0.0`: read the 8-byte request, drain the upload until the
 * client half-closes, only then send the requested bytes, then close. Sending never starts
 * while the upload is still being read (the spec requires it, so uploads and downloads are
 * measured separately).
 *
 * Data path: the upload is counted chunk by chunk and dropped (no copy); the download is the
 * shared zero block handed to `send()` again and again, waiting on `drain()` only when the
 * stream reports backpressure.
 */
import type { Stream } from '../../interface/stream.ts'
import { TimeoutError } from '../../util/errors.ts'
import { StreamReader } from '../../util/stream-reader.ts'
import { idleWatchdog } from '../../util/timers.ts'
import { YIELD_EVERY_BYTES, yieldToEventLoop } from './yield.ts'
import { decodePerfRequest, PERF_BLOCK_SIZE, PERF_REQUEST_LENGTH, perfBlock } from './wire.ts'

export interface ServePerfOptions {
  /** The stream is aborted after this long without progress either way, in ms (default 60 s). */
  idleTimeout?: number
}

export interface PerfServerResult {
  /** Upload bytes received after the request. */
  received: number
  /** Bytes sent back (what the client asked for). */
  sent: number
}

/**
 * Serves one perf stream to the end. Rejects (after aborting the stream) when the request is
 * truncated, the stream is reset, or it stalls for `idleTimeout` ms.
 */
export async function servePerf (stream: Stream, options: ServePerfOptions = {}): Promise<PerfServerResult> {
  const idleTimeout = options.idleTimeout ?? 60_000
  const watchdog = idleWatchdog(idleTimeout, () => { stream.abort(new TimeoutError(`perf stream made no progress for ${idleTimeout} ms`)) })
  let received = 0
  let sent = 0
  try {
    const reader = new StreamReader(stream)
    const requested = decodePerfRequest(await reader.readExactly(PERF_REQUEST_LENGTH))
    // upload bytes that came in the same chunk as the request go back to the stream
    reader.release()
    for (;;) {
      const chunk = await stream.read()
      if (chunk === null) break
      received += chunk.length
      watchdog.touch()
    }
    watchdog.touch()
    const block = perfBlock()
    let sinceYield = 0
    while (sent < requested) {
      const left = requested - sent
      const length = left < PERF_BLOCK_SIZE ? left : PERF_BLOCK_SIZE
      const accepted = stream.send(length === PERF_BLOCK_SIZE ? block : block.subarray(0, length))
      sent += length
      sinceYield += length
      if (!accepted) {
        await stream.drain()
        watchdog.touch()
      }
      if (sinceYield >= YIELD_EVERY_BYTES) {
        await yieldToEventLoop()
        sinceYield = 0
      }
    }
    await stream.close()
    return { received, sent }
  } catch (err) {
    stream.abort(err as Error)
    throw err
  } finally {
    watchdog.clear()
  }
}
