/**
 * Small scheduling helpers of the connection: one send pass per batch of I/O events for every
 * connection that asked for one (so a burst of received datagrams and writes shares one round
 * of packet building and one ACK), and a promise with its resolvers.
 */
import { runAtBatchEnd } from '../../util/timers.ts'

export interface Flushable { flush(): void }

const scheduled: Flushable[] = []
let batchQueued = false

/** Runs `connection.flush()` once the current batch of I/O events is handled. */
export function flushAtBatchEnd (connection: Flushable): void {
  scheduled.push(connection)
  if (batchQueued) return
  batchQueued = true
  runAtBatchEnd(() => {
    batchQueued = false
    const list = scheduled.splice(0)
    for (const c of list) c.flush()
  })
}

export interface Deferred<T> { promise: Promise<T>, resolve(value: T): void, reject(err: Error): void }

export function deferred<T> (): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (err: Error) => void
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}
