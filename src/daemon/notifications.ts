/**
 * Connection notifications, the roadmap item p2pd never built (docs/daemon/notifications.md):
 * a NOTIFY request turns its control connection into a stream of Event messages, one per
 * connection opened or closed on the node and per stream the daemon opened or handed to a
 * client handler. The stream starts with a CONNECTED event for every connection already open,
 * so a client learns the state and every later change without a race.
 *
 * A subscriber that does not read is dropped (its socket closed) once MAX_EVENT_BACKLOG bytes
 * wait for it, rather than buffered without bound; the client unsubscribes by closing.
 */
import type { Libp2p } from '../interface/libp2p.ts'
import type { Connection } from '../interface/connection.ts'
import type { ByteStream } from '../interface/stream.ts'
import { encodeLP } from '../util/stream-reader.ts'
import { Libp2pError } from '../util/errors.ts'
import { encodeResponse, ResponseType } from './messages.ts'
import { encodeEvent, EventDirection, EventType, type NotifyRequest } from './event-messages.ts'

/** Bytes of events waiting for one slow subscriber before it is dropped. */
export const MAX_EVENT_BACKLOG = 1024 * 1024
/** Notification subscribers at once, across every control connection. */
export const MAX_SUBSCRIBERS = 256

/** The subscriber fell MAX_EVENT_BACKLOG bytes behind and was dropped. */
export class SubscriberTooSlowError extends Libp2pError {
  static readonly code = 'ERR_DAEMON_SUBSCRIBER_TOO_SLOW'
  constructor (message = 'the notification subscriber did not read its events') {
    super(message, SubscriberTooSlowError.code)
    this.name = 'SubscriberTooSlowError'
  }
}

interface Subscriber { control: ByteStream, types: Set<number>, backlog: number }

export class DaemonNotifier {
  readonly #node: Libp2p
  readonly #subscribers = new Set<Subscriber>()
  readonly #onOpen = (evt: CustomEvent<Connection>): void => { this.#connectionEvent(EventType.CONNECTED, evt.detail) }
  readonly #onClose = (evt: CustomEvent<Connection>): void => { this.#connectionEvent(EventType.DISCONNECTED, evt.detail) }

  constructor (node: Libp2p) {
    this.#node = node
  }

  get subscriberCount (): number { return this.#subscribers.size }

  start (): void {
    this.#node.addEventListener('connection:open', this.#onOpen)
    this.#node.addEventListener('connection:close', this.#onClose)
  }

  stop (): void {
    this.#node.removeEventListener('connection:open', this.#onOpen)
    this.#node.removeEventListener('connection:close', this.#onClose)
    for (const s of this.#subscribers) s.control.abort(new Error('the daemon is stopping'))
    this.#subscribers.clear()
  }

  /** A stream the daemon opened (STREAM_OPEN) or handed to a client's handler. */
  streamOpened (connection: Connection, protocol: string, direction: 'inbound' | 'outbound'): void {
    if (this.#subscribers.size === 0) return
    this.#publish(EventType.STREAM_OPENED, encodeEvent({
      type: EventType.STREAM_OPENED, peer: connection.remotePeer.bytes, addr: connection.remoteAddr.bytes, direction: direction === 'inbound' ? EventDirection.INBOUND : EventDirection.OUTBOUND, proto: protocol
    }))
  }

  /**
   * Serves one NOTIFY request: answers OK, sends the current connections, then every event
   * until the client closes. Resolves when the subscription ended.
   */
  async serve (control: ByteStream, request: NotifyRequest): Promise<void> {
    if (this.#subscribers.size >= MAX_SUBSCRIBERS) {
      await control.write(encodeLP(encodeResponse({ type: ResponseType.ERROR, error: { msg: `more than ${MAX_SUBSCRIBERS} notification subscribers` } })))
      await control.close()
      return
    }
    const subscriber: Subscriber = { control, types: new Set(request.types.length === 0 ? Object.values(EventType) : request.types), backlog: 0 }
    // OK, the snapshot and the registration happen in one synchronous step: a client that has
    // read the OK is subscribed, and no event falls between the snapshot and the live ones
    this.#send(subscriber, encodeLP(encodeResponse({ type: ResponseType.OK })))
    if (subscriber.types.has(EventType.CONNECTED)) {
      for (const c of this.#node.getConnections()) {
        if (c.status === 'open') this.#send(subscriber, encodeLP(encodeEvent(connectionEvent(EventType.CONNECTED, c))))
      }
    }
    this.#subscribers.add(subscriber)
    // the client unsubscribes by closing; anything it sends is ignored
    try { for await (const _ of control) { /* ignored */ } } catch {}
    this.#subscribers.delete(subscriber)
    control.abort(new Error('unsubscribed'))
  }

  #connectionEvent (type: number, connection: Connection): void {
    if (this.#subscribers.size === 0) return
    this.#publish(type, encodeEvent(connectionEvent(type, connection)))
  }

  #publish (type: number, event: Uint8Array): void {
    const frame = encodeLP(event)
    for (const s of this.#subscribers) if (s.types.has(type)) this.#send(s, frame)
  }

  #send (s: Subscriber, frame: Uint8Array): void {
    if (s.control.send(frame)) return
    if (s.backlog === 0) s.control.drain().then(() => { s.backlog = 0 }, () => {})
    s.backlog += frame.length
    if (s.backlog > MAX_EVENT_BACKLOG) {
      this.#subscribers.delete(s)
      s.control.abort(new SubscriberTooSlowError())
    }
  }
}

function connectionEvent (type: number, c: Connection): Parameters<typeof encodeEvent>[0] {
  return { type, peer: c.remotePeer.bytes, addr: c.remoteAddr.bytes, direction: c.direction === 'inbound' ? EventDirection.INBOUND : EventDirection.OUTBOUND }
}
