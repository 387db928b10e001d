/**
 * Joins two byte streams (a local socket and a libp2p stream) both ways. Each direction copies
 * until its source ends, then half-closes the destination, so a half-close on one side reaches
 * the other (p2pd closes both ways at the first EOF). An error on either side aborts both.
 * Backpressure holds: `write` resolves only below the destination's high-water mark.
 */
import type { ByteStream } from '../interface/stream.ts'

async function copy (from: ByteStream, to: ByteStream): Promise<void> {
  for (;;) {
    const chunk = await from.read()
    if (chunk === null) break
    await to.write(chunk)
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
