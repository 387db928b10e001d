/**
 * Writes back every byte a stream receives until the remote half-closes, then half-closes too:
 * the server side of both `/echo/1.0.0` and `/ipfs/ping/1.0.0` (a ping is 32 bytes echoed).
 * Each received chunk goes straight to `send()` (no copy, no per-chunk promise unless the
 * writer is above its high-water mark, then it waits for `drain()`). After `idleTimeout` ms
 * without data the stream is aborted with a TimeoutError saying `idleReason`; on any error the
 * stream is aborted with it and the promise rejects.
 */
import type { Stream } from '../interface/stream.ts'
import { TimeoutError } from './errors.ts'
import { idleWatchdog } from './timers.ts'

export async function echoUntilHalfClosed (stream: Stream, idleTimeout: number, idleReason: string): Promise<void> {
  const watchdog = idleWatchdog(idleTimeout, () => { stream.abort(new TimeoutError(idleReason)) })
  try {
    for (;;) {
      const chunk = await stream.read()
      if (chunk === null) break
      watchdog.touch()
      if (!stream.send(chunk)) await stream.drain()
    }
    await stream.closeWrite()
  } catch (err) {
    stream.abort(err as Error)
    throw err
  } finally {
    watchdog.clear()
  }
}
