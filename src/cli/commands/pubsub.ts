/**
 * `ts-libp2p pubsub pub TOPIC DATA --bootstrap MA...`: a short-lived node connects to the given
 * peers, waits until one of them subscribes to TOPIC (or the timeout passes), publishes DATA
 * (UTF-8) and exits. Also the pieces `start --pubsub` uses: the router factory and the printer
 * that writes one JSON line per received message.
 */
import { parseArgs } from 'node:util'
import type { Command } from '../cli.ts'
import { parseMultiaddr, parsePositiveInt, UsageError } from '../args.ts'
import { createLibp2p, TimeoutError } from '../../index.ts'
import { identify } from '../../protocols/identify/index.ts'
import { MemoryDatastore } from '../../store/index.ts'
import { gossipsub } from '../../pubsub/gossipsub/index.ts'
import { floodsub, type PubSubBase, type PubSubComponents } from '../../pubsub/floodsub/index.ts'
import { Deadline } from '../../util/deadline.ts'

export type PubSubRouterName = 'gossipsub' | 'floodsub'

export function parseRouter (value: string | undefined): PubSubRouterName | undefined {
  if (value === undefined) return undefined
  if (value !== 'gossipsub' && value !== 'floodsub') throw new UsageError(`--pubsub must be gossipsub or floodsub, got '${value}'`)
  return value
}

/** The service factory for a router name. */
export function pubsubService (router: PubSubRouterName): (components: PubSubComponents) => PubSubBase {
  return router === 'floodsub' ? floodsub() : gossipsub()
}

/** Subscribes to `topics` and prints `{"topic","from","seqno","data"}` per message on stdout. */
export function printMessages (pubsub: PubSubBase, topics: string[], write: (line: string) => void = (l) => { process.stdout.write(l) }): void {
  pubsub.addEventListener('message', (evt) => {
    const m = evt.detail
    write(JSON.stringify({
      topic: m.topic,
      from: m.type === 'signed' ? m.from.toString() : '',
      seqno: m.type === 'signed' ? m.sequenceNumber.toString(16).padStart(16, '0') : '',
      data: Buffer.from(m.data).toString('base64')
    }) + '\n')
  })
  for (const topic of topics) pubsub.subscribe(topic)
}

export const pubsubCommand: Command = {
  help: `Usage: ts-libp2p pubsub pub TOPIC DATA --bootstrap MA... [--pubsub gossipsub|floodsub] [--timeout MS]

Publishes DATA (UTF-8 text) on TOPIC from a short-lived node: it connects to the --bootstrap
peers, waits until one of them is subscribed to TOPIC, publishes, waits until the message is
handed to the connection, and exits 0. Exits 1 with a one-line reason on stderr when no
subscribed peer shows up within the timeout or the peers cannot be reached.

Options:
  --bootstrap MA   peer to connect to (MA ends in /p2p/<id>), repeatable, at least one
  --pubsub R       router: gossipsub (default) or floodsub
  --timeout MS     how long to wait for connections and a subscriber (default 10000)
  -h, --help       show this help`,
  async run (argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        bootstrap: { type: 'string', multiple: true },
        pubsub: { type: 'string' },
        timeout: { type: 'string' }
      },
      strict: true,
      allowPositionals: true
    })
    const [sub, topic, data, ...extra] = positionals
    if (sub !== 'pub') throw new UsageError(`unknown pubsub subcommand '${sub ?? ''}' (expected: pub)`)
    if (topic === undefined || topic === '' || data === undefined) throw new UsageError('usage: ts-libp2p pubsub pub TOPIC DATA --bootstrap MA...')
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`)
    const peers = (values.bootstrap ?? []).map(a => parseMultiaddr(a, 'bootstrap address'))
    if (peers.length === 0) throw new UsageError('at least one --bootstrap MA is required')
    const router = parseRouter(values.pubsub) ?? 'gossipsub'
    const timeout = parsePositiveInt(values.timeout, 'timeout', 10_000)

    const node = await createLibp2p({
      datastore: new MemoryDatastore(),
      addresses: { listen: [] },
      services: { identify: identify({ timeout }), pubsub: pubsubService(router) }
    })
    const pubsub = node.services.pubsub
    const deadline = new Deadline(timeout, undefined, `publishing timed out after ${timeout} ms`)
    const signal = deadline.signal
    try {
      const dials = await Promise.allSettled(peers.map(async (ma) => await node.dial(ma, { signal })))
      if (dials.every(d => d.status === 'rejected')) {
        throw new Error(`could not connect to any bootstrap peer: ${(dials[0] as PromiseRejectedResult).reason?.message as string}`)
      }
      await untilSubscriber(pubsub, topic, signal)
      const { recipients } = await pubsub.publish(topic, new TextEncoder().encode(data))
      if (recipients.length === 0) throw new Error(`no peer took the message on '${topic}'`)
    } finally {
      deadline.clear()
      // stopping flushes the outbound pubsub streams, so the message is on its way
      await node.stop()
    }
    return 0
  }
}

async function untilSubscriber (pubsub: PubSubBase, topic: string, signal: AbortSignal): Promise<void> {
  if (pubsub.getSubscribers(topic).length > 0) return
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (pubsub.getSubscribers(topic).length === 0) return
      cleanup()
      resolve()
    }
    const onAbort = (): void => {
      cleanup()
      reject(new TimeoutError(`no connected peer subscribed to '${topic}' in time`))
    }
    const cleanup = (): void => {
      pubsub.removeEventListener('subscription-change', check)
      signal.removeEventListener('abort', onAbort)
    }
    pubsub.addEventListener('subscription-change', check)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
