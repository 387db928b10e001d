/** Shared setup for the node's end-to-end tests: real TCP on loopback, real security and muxers. */
import { createLibp2p } from '../../src/index.ts'
import type { Libp2pOptions, ServiceFactories } from '../../src/index.ts'
import type { Libp2pNode } from '../../src/node/libp2p.ts'
import type { Stream } from '../../src/interface/stream.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { plaintext } from '../../src/security/plaintext.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { mplex } from '../../src/muxer/mplex/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import { echo } from '../../src/protocols/echo/index.ts'
import { utf8Decode } from '../../src/util/bytes.ts'

export const stacks = {
  'noise+yamux': { connectionEncrypters: [noise()], streamMuxers: [yamux()] },
  'noise+mplex': { connectionEncrypters: [noise()], streamMuxers: [mplex()] },
  'plaintext+yamux': { connectionEncrypters: [plaintext()], streamMuxers: [yamux()] }
} satisfies Record<string, Libp2pOptions>

export function defaultServices () {
  return { identify: identify(), ping: ping(), echo: echo() }
}

export type TestNode = Libp2pNode<Record<string, unknown>>

/** Nodes created by `makeNode`, stopped by `stopAll`. */
const nodes: TestNode[] = []

export async function makeNode (options: Libp2pOptions<ServiceFactories> = {}): Promise<TestNode> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    ...stacks['noise+yamux'],
    services: defaultServices(),
    ...options
  }) as unknown as TestNode
  nodes.push(node)
  return node
}

export async function stopAll (): Promise<void> {
  await Promise.all(nodes.splice(0).map(async n => { await n.stop() }))
}

export async function readAll (stream: Stream): Promise<string> {
  let text = ''
  for await (const chunk of stream) text += utf8Decode(chunk)
  return text
}

/** Resolves with the next event of `type` on `node` whose detail passes `filter`. */
export function nextEvent<T> (node: TestNode, type: 'peer:connect' | 'peer:disconnect' | 'peer:identify' | 'connection:open' | 'connection:close' | 'self:peer:update', filter: (detail: T) => boolean = () => true, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      node.removeEventListener(type, listener)
      reject(new Error(`no ${type} event within ${timeoutMs} ms`))
    }, timeoutMs)
    const listener = (evt: CustomEvent): void => {
      if (!filter(evt.detail as T)) return
      clearTimeout(timer)
      node.removeEventListener(type, listener)
      resolve(evt.detail as T)
    }
    node.addEventListener(type, listener)
  })
}
