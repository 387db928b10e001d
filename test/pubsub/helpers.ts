/**
 * Helpers for pubsub tests: nodes over loopback TCP with a pubsub service, connecting them,
 * and event-driven waits (no sleeps): until a peer announced a topic, until messages arrived.
 */
import { createLibp2p } from '../../src/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import type { Libp2p } from '../../src/interface/libp2p.ts'
import type { PeerId } from '../../src/interface/peer-id.ts'
import type { PubSubBase } from '../../src/pubsub/pubsub.ts'
import type { PubSubMessageEvent } from '../../src/pubsub/types.ts'

export type PubSubNode<P extends PubSubBase = PubSubBase> = Libp2p<{ pubsub: P, identify: unknown }>

export async function createPubSubNode<P extends PubSubBase> (pubsub: (components: any) => P): Promise<PubSubNode<P>> {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    services: { identify: identify(), pubsub }
  })
}

export async function connect (a: PubSubNode, b: PubSubNode): Promise<void> {
  await a.dial(b.getMultiaddrs()[0])
}

/** Resolves once `predicate()` holds, re-checking on every event of the given types. */
export async function until (target: EventTarget | { addEventListener: any, removeEventListener: any }, types: string[], predicate: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  if (predicate()) return
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (!predicate()) return
      cleanup()
      resolve()
    }
    const timer = setTimeout(() => { cleanup(); reject(new Error(`timed out waiting for ${what}`)) }, timeoutMs)
    const cleanup = (): void => {
      clearTimeout(timer)
      for (const t of types) target.removeEventListener(t, check)
    }
    for (const t of types) target.addEventListener(t, check)
  })
}

/** Waits until `node` knows `peer` subscribes to `topic`. */
export async function untilSubscribed (node: PubSubNode, peer: PeerId, topic: string, timeoutMs = 20_000): Promise<void> {
  const ps = node.services.pubsub
  await until(ps, ['subscription-change'], () => ps.getSubscribers(topic).some(p => p.equals(peer)), timeoutMs, `${peer.toString()} on ${topic}`)
}

/** Collects `message` events on a node. */
export function collect (node: PubSubNode): PubSubMessageEvent[] {
  const out: PubSubMessageEvent[] = []
  node.services.pubsub.addEventListener('message', (evt) => { out.push(evt.detail) })
  return out
}

export async function untilCount (node: PubSubNode, list: unknown[], n: number, timeoutMs = 20_000): Promise<void> {
  await until(node.services.pubsub, ['message'], () => list.length >= n, timeoutMs, `${n} messages (have ${list.length})`)
}
