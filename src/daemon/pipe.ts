/**
 * Joins two byte streams (a local socket and a libp2p stream) both ways. Each direction copies
 * until its source ends, then half-closes the destination, so a half-close on one side reaches
 * the other (p2pd closes both ways at the first EOF). An error on either side aborts both.
 * Backpressure holds: `write` resolves only below the destination's high-water mark.
 */
import type { ByteStream } from '../interface/stream.ts'

async function copy (from: ByteStream, to: ByteStream): Promise<void> {
  for (;;) {
    // chunks already queued are taken synchronously, and a write waits only when the
    // destination reports backpressure: no promise per chunk on the hot path
    const chunk = from.tryRead?.() ?? await from.read()
    if (chunk === null) break
    if (!to.send(chunk)) await to.drain()
  }
  await to.closeWrite()
}

export async function pipeBoth (a: ByteStream, b: ByteStream): Promise<void> {
  try {
    await Promise.all([copy(a, b), copy(b, a)])
    await Promise.all([a.close(), b.close()])
  } catch (err) {
    a.abort(err as Error)
    b.abort(err as Error)
  }
}
