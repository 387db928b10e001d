/**
 * A typed EventTarget for the node's `noun:verb` events. Listeners are isolated: one that
 * throws (or returns a rejected promise) is logged instead of crashing the process, which is
 * what Node's EventTarget does by default, so a buggy application listener cannot take the
 * node down in the middle of a dial or a connection close.
 */
import type { TypedEvents } from '../interface/events.ts'
import { logger } from './logger.ts'

const log = logger('events')

type Listener = (evt: any) => void

// One wrapper per listener function, shared by every event type it is added for, so
// removeEventListener finds the same function EventTarget registered.
const wrappers = new WeakMap<Listener, Listener>()

function isolate (listener: Listener): Listener {
  let wrapped = wrappers.get(listener)
  if (wrapped === undefined) {
    wrapped = (evt: Event) => {
      try {
        const result = listener(evt) as unknown
        if (result instanceof Promise) result.catch(err => { log.error('listener for %s rejected: %s', evt.type, err) })
      } catch (err) {
        log.error('listener for %s threw: %s', evt.type, err)
      }
    }
    wrappers.set(listener, wrapped)
  }
  return wrapped
}

export class TypedEventEmitter<Events extends object> implements TypedEvents<Events> {
  readonly #target = new EventTarget()
  /**
   * Types a listener was ever added for: safeDispatch builds no event for the others (a
   * CustomEvent and its dispatch cost a few us, several times per connection, for events such
   * as `connection:open` that a node without identify or metrics never listens to).
   */
  readonly #listened = new Set<string>()

  addEventListener<K extends keyof Events & string> (type: K, listener: (evt: CustomEvent<Events[K]>) => void, options?: boolean | AddEventListenerOptions): void {
    this.#listened.add(type)
    this.#target.addEventListener(type, isolate(listener), options)
  }

  removeEventListener<K extends keyof Events & string> (type: K, listener: (evt: CustomEvent<Events[K]>) => void, options?: boolean | EventListenerOptions): void {
    const wrapped = wrappers.get(listener)
    if (wrapped !== undefined) this.#target.removeEventListener(type, wrapped, options)
  }

  dispatchEvent (event: Event): boolean {
    return this.#target.dispatchEvent(event)
  }

  safeDispatch<K extends keyof Events & string> (type: K, detail: Events[K]): void {
    if (!this.#listened.has(type)) return
    this.#target.dispatchEvent(new CustomEvent(type, { detail }))
  }
}
