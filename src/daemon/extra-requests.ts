/**
 * Control requests beyond streams and connections: PUBSUB (pubsub.go), DHT (dht.go) and
 * PEERSTORE (type 9, the js and Python clients' extension). Returns undefined for a type it
 * does not serve, so the server answers "unknown request type".
 *
 * Answers follow p2pd: PUBSUB SUBSCRIBE answers OK and then the control socket carries bare
 * PSMessage frames until the client closes it (then we unsubscribe, unless another subscriber
 * remains); the streaming DHT queries answer `Response{OK, dht: BEGIN}`, bare DHTResponse
 * VALUE frames and a bare `DHTResponse{END}`.
 */
import { Deadline } from '../util/deadline.ts'
import type { Libp2p } from '../interface/libp2p.ts'
import type { ByteStream } from '../interface/stream.ts'
import type { PubSubBase } from '../pubsub/pubsub.ts'
import type { PubSubMessage } from '../pubsub/types.ts'
import type { KadDHT } from '../dht/kad-dht.ts'
import { peerIdFromMultihash } from '../peer/peer-id.ts'
import { encodeLP } from '../util/stream-reader.ts'
import { writeControl } from './control-limits.ts'
import {
  DHTRequestType, DHTResponseType, PSRequestType, PeerstoreRequestType, RequestType, ResponseType,
  encodeDHTResponse, encodePSMessage, encodeResponse, type PeerInfo, type Request, type Response
} from './messages.ts'

export type ExtraRequestResult = Response | 'taken-over' | undefined

const DEFAULT_DHT_TIMEOUT_MS = 60_000
const DEFAULT_PROVIDER_COUNT = 20
/** Bytes of PSMessage frames waiting for a slow subscriber before it is dropped. */
const MAX_SUBSCRIBER_BACKLOG = 8 * 1024 * 1024

function fail (msg: string): Response { return { type: ResponseType.ERROR, error: { msg } } }

/** `stallMs`: how long an answer may wait for a client that does not read (control-limits.ts). */
export async function handleExtraRequest (node: Libp2p, request: Request, control: ByteStream, stallMs: number): Promise<ExtraRequestResult> {
  switch (request.type) {
    case RequestType.PEERSTORE: return await peerStoreRequest(node, request)
    case RequestType.PUBSUB: return await pubsubRequest(node, request, control, stallMs)
    case RequestType.DHT: return await dhtRequest(node, request, control, stallMs)
    default: return undefined
  }
}

async function peerStoreRequest (node: Libp2p, request: Request): Promise<Response> {
  const p = request.peerStore
  if (p?.id === undefined) return fail('PEERSTORE needs a peer id')
  const peer = await node.peerStore.get(peerIdFromMultihash(p.id))
  if (p.type === PeerstoreRequestType.GET_PROTOCOLS) return { type: ResponseType.OK, peerStore: { protos: peer.protocols } }
  if (p.type === PeerstoreRequestType.GET_PEER_INFO) {
    return { type: ResponseType.OK, peerStore: { peer: { id: p.id, addrs: peer.addresses.map(a => a.multiaddr.bytes) }, protos: [] } }
  }
  return fail(`unknown PEERSTORE request type ${p.type}`)
}

function toPSMessage (m: PubSubMessage): Uint8Array {
  if (m.type === 'unsigned') return encodePSMessage({ data: m.data, topicIDs: [m.topic] })
  const seqno = new Uint8Array(8)
  new DataView(seqno.buffer).setBigUint64(0, m.sequenceNumber)
  return encodePSMessage({ from: m.from.bytes, data: m.data, seqno, topicIDs: [m.topic], signature: m.signature, key: m.key.toProtobuf() })
}

async function pubsubRequest (node: Libp2p, request: Request, control: ByteStream, stallMs: number): Promise<ExtraRequestResult> {
  const pubsub = (node.services as { pubsub?: PubSubBase }).pubsub
  if (pubsub === undefined) return fail('PubSub not enabled')
  const p = request.pubsub
  if (p === undefined) return fail('PUBSUB without a pubsub field')
  switch (p.type) {
    case PSRequestType.GET_TOPICS: return { type: ResponseType.OK, pubsub: { topics: pubsub.getTopics(), peerIDs: [] } }
    case PSRequestType.LIST_PEERS: {
      const peers = p.topic === undefined || p.topic === '' ? pubsub.getPeers() : pubsub.getSubscribers(p.topic)
      return { type: ResponseType.OK, pubsub: { topics: [], peerIDs: peers.map(id => id.bytes) } }
    }
    case PSRequestType.PUBLISH:
      if (p.topic === undefined) return fail('PUBLISH needs a topic')
      await pubsub.publish(p.topic, p.data ?? new Uint8Array(0))
      return { type: ResponseType.OK }
    case PSRequestType.SUBSCRIBE: {
      const topic = p.topic
      if (topic === undefined) return fail('SUBSCRIBE needs a topic')
      pubsub.subscribe(topic)
      subscribers.set(topic, (subscribers.get(topic) ?? 0) + 1)
      // a subscriber that does not read is dropped rather than buffered without bound
      let backlog = 0
      const onMessage = (evt: CustomEvent<PubSubMessage>): void => {
        if (evt.detail.topic !== topic) return
        const frame = encodeLP(toPSMessage(evt.detail))
        if (control.send(frame)) return
        if (backlog === 0) control.drain().then(() => { backlog = 0 }, () => {})
        backlog += frame.length
        if (backlog > MAX_SUBSCRIBER_BACKLOG) control.abort(new Error('subscriber too slow'))
      }
      pubsub.addEventListener('message', onMessage as (evt: CustomEvent) => void)
      await writeControl(control, encodeLP(encodeResponse({ type: ResponseType.OK })), stallMs)
      // the client unsubscribes by closing the socket; anything it sends is ignored
      try { for await (const _ of control) { /* ignored */ } } catch {}
      pubsub.removeEventListener('message', onMessage as (evt: CustomEvent) => void)
      const left = (subscribers.get(topic) ?? 1) - 1
      if (left === 0) { subscribers.delete(topic); pubsub.unsubscribe(topic) } else subscribers.set(topic, left)
      control.abort(new Error('unsubscribed'))
      return 'taken-over'
    }
    default: return fail(`unknown PUBSUB request type ${p.type}`)
  }
}

/** Control subscriptions per topic, so the last one to close unsubscribes the node. */
const subscribers = new Map<string, number>()

function peerInfoOf (p: { id: { bytes: Uint8Array }, multiaddrs: Array<{ bytes: Uint8Array }> }): PeerInfo {
  return { id: p.id.bytes, addrs: p.multiaddrs.map(a => a.bytes) }
}

async function dhtRequest (node: Libp2p, request: Request, control: ByteStream, stallMs: number): Promise<ExtraRequestResult> {
  const dht = (node.services as { dht?: KadDHT }).dht
  if (dht === undefined) return fail('DHT not enabled')
  const d = request.dht
  if (d === undefined) return fail('DHT without a dht field')
  const deadline = new Deadline(d.timeout !== undefined && d.timeout > 0 ? Math.min(d.timeout, 3600) * 1000 : DEFAULT_DHT_TIMEOUT_MS, undefined, 'the DHT request timed out')
  try {
    return await answerDht(node, dht, d, control, deadline.signal, stallMs)
  } finally {
    deadline.clear()
  }
}

async function answerDht (node: Libp2p, dht: KadDHT, d: NonNullable<Request['dht']>, control: ByteStream, signal: AbortSignal, stallMs: number): Promise<ExtraRequestResult> {
  const streamValues = async (values: AsyncIterable<Uint8Array>): Promise<'taken-over'> => {
    await writeControl(control, encodeLP(encodeResponse({ type: ResponseType.OK, dht: { type: DHTResponseType.BEGIN } })), stallMs)
    for await (const frame of values) await writeControl(control, encodeLP(frame), stallMs)
    await writeControl(control, encodeLP(encodeDHTResponse({ type: DHTResponseType.END })), stallMs)
    await control.close()
    return 'taken-over'
  }
  switch (d.type) {
    case DHTRequestType.FIND_PEER: {
      if (d.peer === undefined) return fail('FIND_PEER needs a peer')
      const found = await dht.findPeer(peerIdFromMultihash(d.peer), { signal })
      return { type: ResponseType.OK, dht: { type: DHTResponseType.VALUE, peer: peerInfoOf(found) } }
    }
    case DHTRequestType.GET_PUBLIC_KEY: {
      if (d.peer === undefined) return fail('GET_PUBLIC_KEY needs a peer')
      const id = peerIdFromMultihash(d.peer)
      const key = id.publicKey ?? (await node.peerStore.get(id)).publicKey
      if (key === undefined) return fail('public key not found')
      return { type: ResponseType.OK, dht: { type: DHTResponseType.VALUE, value: key.toProtobuf() } }
    }
    case DHTRequestType.GET_VALUE: {
      if (d.key === undefined) return fail('GET_VALUE needs a key')
      return { type: ResponseType.OK, dht: { type: DHTResponseType.VALUE, value: await dht.get(d.key, { signal }) } }
    }
    case DHTRequestType.PUT_VALUE:
      if (d.key === undefined || d.value === undefined) return fail('PUT_VALUE needs a key and a value')
      await dht.put(d.key, d.value, { signal })
      return { type: ResponseType.OK }
    case DHTRequestType.PROVIDE:
      if (d.cid === undefined) return fail('PROVIDE needs a cid')
      await dht.provide(d.cid, { signal })
      return { type: ResponseType.OK }
    case DHTRequestType.SEARCH_VALUE: {
      if (d.key === undefined) return fail('SEARCH_VALUE needs a key')
      const key = d.key
      return await streamValues((async function * () {
        yield encodeDHTResponse({ type: DHTResponseType.VALUE, value: await dht.get(key, { signal }) })
      })())
    }
    case DHTRequestType.FIND_PROVIDERS: {
      if (d.cid === undefined) return fail('FIND_PROVIDERS needs a cid')
      const count = d.count !== undefined && d.count > 0 ? d.count : DEFAULT_PROVIDER_COUNT
      const providers = dht.findProviders(d.cid, { signal, count })
      return await streamValues((async function * () {
        for await (const p of providers) yield encodeDHTResponse({ type: DHTResponseType.VALUE, peer: peerInfoOf(p) })
      })())
    }
    case DHTRequestType.GET_CLOSEST_PEERS: {
      if (d.key === undefined) return fail('GET_CLOSEST_PEERS needs a key')
      const events = dht.getClosestPeers(d.key, { signal })
      return await streamValues((async function * () {
        // p2pd sends each closest peer's id bytes as the value
        for await (const e of events) if (e.type === 'final-peer') yield encodeDHTResponse({ type: DHTResponseType.VALUE, value: e.peer.id.bytes })
      })())
    }
    default: return fail(`unknown DHT request type ${d.type}`)
  }
}
