/**
 * Cooperative scheduling for the perf send loops. Over a real network, drain() resolves from
 * I/O callbacks, but a stream whose backpressure is resolved in microtasks (an in-memory pipe
 * whose reader keeps up) would let a send loop run without ever returning to the event loop:
 * progress reports, timeouts and aborts would never fire. So the loops yield one macrotask per
 * YIELD_EVERY_BYTES sent, which costs nothing measurable at any real throughput.
 */

import { nextTurn } from '../../util/timers.ts'

export const YIELD_EVERY_BYTES = 4 * 1024 * 1024

/** Resolves on a later turn of the event loop (after timers and I/O callbacks had a chance). */
export const yieldToEventLoop = nextTurn
