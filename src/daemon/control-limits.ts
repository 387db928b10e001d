/**
 * Time limits on one control connection, against clients that stall (issue 12's hostile input):
 *
 * - a request must arrive whole within `frameTimeoutMs` of its first byte, so a client that
 *   sends half a request and stops holds no reader for longer (the idle timeout between
 *   requests is much longer: an idle client is legitimate, a half-sent request is not);
 * - an answer the daemon writes must leave its buffer within `writeStallTimeoutMs`: a client
 *   that sends requests and never reads its answers fills the socket's write buffer (bounded by
 *   the TCP connection wrapper's high-water mark, and the daemon reads no further request while
 *   an answer waits), and is dropped when that buffer has not drained in time.
 */
import type { ByteStream } from '../interface/stream.ts'
import { Deadline } from '../util/deadline.ts'
import { Libp2pError } from '../util/errors.ts'

/** A control connection that sends no request for this long is closed. */
export const CONTROL_IDLE_TIMEOUT_MS = 5 * 60_000
/** The rest of a request must follow its first byte within this. */
export const CONTROL_FRAME_TIMEOUT_MS = 10_000
/** An answer that cannot be handed to the client's socket for this long drops the client. */
export const CONTROL_WRITE_STALL_TIMEOUT_MS = 30_000

export interface ControlLimits {
  idleTimeoutMs: number
  frameTimeoutMs: number
  writeStallTimeoutMs: number
}

export const DEFAULT_CONTROL_LIMITS: ControlLimits = {
  idleTimeoutMs: CONTROL_IDLE_TIMEOUT_MS,
  frameTimeoutMs: CONTROL_FRAME_TIMEOUT_MS,
  writeStallTimeoutMs: CONTROL_WRITE_STALL_TIMEOUT_MS
}

/** The client did not read what the daemon wrote to it in time; its connection was dropped. */
export class ControlClientStalledError extends Libp2pError {
  static readonly code = 'ERR_DAEMON_CLIENT_STALLED'
  constructor (message = 'the control client did not read its answers') {
    super(message, ControlClientStalledError.code)
    this.name = 'ControlClientStalledError'
  }
}

/** A request began but did not arrive whole within the frame timeout. */
export class IncompleteRequestError extends Libp2pError {
  static readonly code = 'ERR_DAEMON_INCOMPLETE_REQUEST'
  constructor (message = 'the request did not arrive whole in time') {
    super(message, IncompleteRequestError.code)
    this.name = 'IncompleteRequestError'
  }
}

/**
 * Writes one frame to a control connection. Resolves at once while the socket's buffer is
 * below its high-water mark; otherwise waits for it to drain, at most `stallMs`, and then
 * aborts the connection with ControlClientStalledError (and rejects with it).
 */
export async function writeControl (control: ByteStream, frame: Uint8Array, stallMs: number): Promise<void> {
  if (control.send(frame)) return
  const deadline = new Deadline(stallMs)
  try {
    await control.drain({ signal: deadline.signal })
  } catch (err) {
    if (!deadline.signal.aborted) throw err
    const stalled = new ControlClientStalledError(`the control client read nothing for ${stallMs} ms while answers waited`)
    control.abort(stalled)
    throw stalled
  } finally {
    deadline.clear()
  }
}
