/**
 * Progress events of DHT operations, and the small channel that turns a running operation's
 * callbacks into an async iterable (one producer, one consumer; the producer never waits, and
 * the consumer breaking out of its loop aborts the operation).
 */
import type { PeerId } from '../interface/peer-id.ts'
import type { PeerInfo } from '../interface/routing.ts'
import type { MessageType } from './message.ts'

export type DhtEvent =
  | { type: 'send-query', to: PeerId, messageType: MessageType, hop: number }
  | { type: 'peer-response', from: PeerId, messageType: MessageType, hop: number, closer: PeerInfo[], providers: PeerInfo[], record?: Uint8Array }
  | { type: 'query-error', from: PeerId, error: Error }
  | { type: 'provider', from: PeerId, provider: PeerInfo }
  | { type: 'value', from: PeerId, value: Uint8Array }
  | { type: 'final-peer', peer: PeerInfo }
  | { type: 'query-done', queried: number, failed: number, hops: number, doneAtHop: number, timedOut: boolean }

export interface ProgressOptions {
  signal?: AbortSignal
  /** Called for every progress event of the operation. */
  onProgress?(event: DhtEvent): void
}

/**
 * Runs `producer` and yields what it pushes. The producer's own promise ends the iteration
 * (rejection included); a consumer that stops early aborts the producer's signal.
 */
export async function * channel<T> (producer: (push: (value: T) => void, signal: AbortSignal) => Promise<void>, signal?: AbortSignal): AsyncGenerator<T, void, undefined> {
  const controller = new AbortController()
  const combined = signal !== undefined ? AbortSignal.any([signal, controller.signal]) : controller.signal
  const queue: T[] = []
  let wake: (() => void) | undefined
  let done = false
  let failure: { err: unknown } | undefined
  const push = (value: T): void => {
    if (done) return
    queue.push(value)
    wake?.()
  }
  const running = producer(push, combined).then(() => { done = true }, (err: unknown) => {
    done = true
    failure = { err }
  }).finally(() => { wake?.() })
  try {
    for (;;) {
      while (queue.length > 0) yield queue.shift() as T
      if (done) break
      await new Promise<void>((resolve) => { wake = resolve })
      wake = undefined
    }
    while (queue.length > 0) yield queue.shift() as T
    if (failure !== undefined) throw failure.err
  } finally {
    controller.abort()
    await running
  }
}
