/**
 * The client side of `/perf/1.0.0` on an already negotiated stream: send the 8-byte request,
 * upload, half-close, then download and check that exactly the requested number of bytes
 * came back.
 *
 * Progress goes into a plain counters object that the caller samples (once a second for the
 * perf reports) instead of a callback or an event per chunk, so the data path does nothing
 * but count: the upload re-sends the shared zero block, the download only adds chunk lengths.
 */
import type { AbortOptions } from '../../interface/common.ts'
import type { Stream } from '../../interface/stream.ts'
import { InvalidMessageError, UnexpectedEOFError } from '../../util/errors.ts'
import { YIELD_EVERY_BYTES, yieldToEventLoop } from './yield.ts'
import { checkPerfByteCount, encodePerfRequest, PERF_BLOCK_SIZE, perfBlock } from './wire.ts'

/** Bytes moved so far; updated while the transfer runs. */
export interface PerfCounters {
  uploadBytes: number
  downloadBytes: number
}

/**
 * Runs one perf exchange on `stream`. Rejects, after aborting the stream, with an
 * UnexpectedEOFError if fewer than `downloadBytes` came back, an InvalidMessageError as soon
 * as more arrive, or whatever ended the stream (reset, the signal's reason).
 */
export async function perfOverStream (stream: Stream, uploadBytes: number, downloadBytes: number, counters: PerfCounters, options: AbortOptions = {}): Promise<void> {
  const signal = options.signal
  try {
    checkPerfByteCount(uploadBytes, 'the upload size')
    const request = encodePerfRequest(downloadBytes)
    signal?.throwIfAborted()
    let accepted = stream.send(request)
    const block = perfBlock()
    let uploaded = 0
    let sinceYield = 0
    while (uploaded < uploadBytes) {
      if (!accepted) await stream.drain({ signal })
      if (sinceYield >= YIELD_EVERY_BYTES) {
        await yieldToEventLoop()
        signal?.throwIfAborted()
        sinceYield = 0
      }
      const left = uploadBytes - uploaded
      const length = left < PERF_BLOCK_SIZE ? left : PERF_BLOCK_SIZE
      accepted = stream.send(length === PERF_BLOCK_SIZE ? block : block.subarray(0, length))
      uploaded += length
      sinceYield += length
      counters.uploadBytes += length
    }
    await stream.closeWrite({ signal })
    let downloaded = 0
    for (;;) {
      const chunk = await stream.read({ signal })
      if (chunk === null) break
      downloaded += chunk.length
      counters.downloadBytes += chunk.length
      if (downloaded > downloadBytes) throw new InvalidMessageError(`perf server sent more than the ${downloadBytes} bytes asked for`)
    }
    if (downloaded < downloadBytes) throw new UnexpectedEOFError(`perf server sent ${downloaded} of the ${downloadBytes} bytes asked for`)
    await stream.close({ signal })
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}
