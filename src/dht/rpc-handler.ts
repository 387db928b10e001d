/**
 * Server side of the DHT protocol: answers FIND_NODE, GET_VALUE, PUT_VALUE, GET_PROVIDERS and
 * ADD_PROVIDER (and the deprecated PING) on inbound streams. A stream may carry several
 * requests one after the other; each gets its reply before the next is read. A malformed or
 * oversized frame, an invalid record or a stream idle for too long resets that stream only.
 */
import type { Connection } from '../interface/connection.ts'
import type { PeerId } from '../interface/peer-id.ts'
import type { Stream } from '../interface/stream.ts'
import type { Logger } from '../interface/logger.ts'
import { peerIdFromMultihash } from '../peer/peer-id.ts'
import { Deadline } from '../util/deadline.ts'
import { equalBytes } from '../util/bytes.ts'
import { InvalidMessageError } from '../util/errors.ts'
import { encodeLP, StreamReader } from '../util/stream-reader.ts'
import { toKadId } from './distance.ts'
import { decodeMessage, encodeMessage, MessageType, type DhtMessage, type DhtPeer, type MessageLimits } from './message.ts'
import type { DhtNetwork } from './network.ts'
import { parseWireAddrs } from './network.ts'
import type { ProviderStore } from './provider-store.ts'
import type { RecordStore } from './record-store.ts'
import type { RoutingTable } from './routing-table.ts'
import type { RecordValidation } from './validators.ts'
import type { NodeComponents } from '../interface/components.ts'

export interface RpcHandlerInit {
  components: Pick<NodeComponents, 'peerId' | 'peerStore'>
  routingTable: RoutingTable
  network: DhtNetwork
  records: RecordStore
  providers: ProviderStore
  validation: RecordValidation
  log: Logger
  maxMessageSize: number
  limits: MessageLimits
  /** A stream idle this long between requests is closed, in ms. */
  idleTimeout: number
  /** TTL of provider addresses put in the peer store, in ms. */
  providerAddrTtl: number
  shutdown: AbortSignal
}

export class RpcHandler {
  readonly #init: RpcHandlerInit
  readonly #streams = new Set<Stream>()
  /** Requests answered (diagnostics). */
  requestsHandled = 0

  constructor (init: RpcHandlerInit) {
    this.#init = init
  }

  /** Resets every open inbound stream (on stop). */
  abortAll (err: Error): void {
    for (const stream of this.#streams) stream.abort(err)
    this.#streams.clear()
  }

  async handleStream (stream: Stream, connection: Connection): Promise<void> {
    const { log } = this.#init
    this.#streams.add(stream)
    const reader = new StreamReader(stream)
    // one deadline per request, cleared once answered: nothing lingers between requests
    let deadline: Deadline | undefined
    try {
      for (;;) {
        deadline = new Deadline(this.#init.idleTimeout, this.#init.shutdown, 'DHT stream idle')
        const frame = await reader.readLP({ maxLength: this.#init.maxMessageSize, signal: deadline.signal })
        if (frame === null) break
        const request = decodeMessage(frame, this.#init.limits)
        const reply = await this.handleRequest(connection.remotePeer, request, deadline.signal)
        this.requestsHandled++
        if (reply !== undefined && !stream.send(encodeLP(encodeMessage(reply)))) await stream.drain({ signal: deadline.signal })
        deadline.clear()
      }
      await stream.close({ signal: deadline.signal })
    } catch (err) {
      log('DHT stream from %s reset: %s', connection.remotePeer, (err as Error).message)
      stream.abort(err as Error)
    } finally {
      deadline?.clear()
      this.#streams.delete(stream)
    }
  }

  /** The reply to one request (undefined: none is sent). Throws to reset the stream. */
  async handleRequest (from: PeerId, request: DhtMessage, signal?: AbortSignal): Promise<DhtMessage | undefined> {
    switch (request.type) {
      case MessageType.FIND_NODE: return await this.#findNode(from, request)
      case MessageType.GET_VALUE: return await this.#getValue(from, request, signal)
      case MessageType.PUT_VALUE: return await this.#putValue(request, signal)
      case MessageType.GET_PROVIDERS: return await this.#getProviders(from, request, signal)
      case MessageType.ADD_PROVIDER: await this.#addProvider(from, request, signal); return undefined
      case MessageType.PING: return { type: MessageType.PING, closerPeers: [], providerPeers: [] }
    }
  }

  #requireKey (request: DhtMessage): Uint8Array {
    if (request.key === undefined || request.key.length === 0) throw new InvalidMessageError('DHT request without a key')
    return request.key
  }

  /** Up to k peers from our table closest to `key`, never the requester itself. */
  async #closerPeers (key: Uint8Array, from: PeerId): Promise<DhtPeer[]> {
    const { routingTable, network } = this.#init
    const closest = routingTable.closest(toKadId(key), routingTable.kBucketSize, from)
    const out: DhtPeer[] = []
    for (const peer of closest) {
      const info = await network.peerInfo(peer)
      // a peer we cannot tell anyone how to reach is no help
      if (info.addrs.length > 0) out.push(info)
    }
    return out
  }

  async #findNode (from: PeerId, request: DhtMessage): Promise<DhtMessage> {
    const key = this.#requireKey(request)
    const self = this.#init.components.peerId
    // go and js answer a lookup for themselves with themselves
    const closerPeers = equalBytes(key, self.bytes)
      ? [await this.#init.network.peerInfo(self)]
      : await this.#closerPeers(key, from)
    return { type: MessageType.FIND_NODE, closerPeers, providerPeers: [] }
  }

  async #getValue (from: PeerId, request: DhtMessage, signal?: AbortSignal): Promise<DhtMessage> {
    const key = this.#requireKey(request)
    const reply: DhtMessage = { type: MessageType.GET_VALUE, key, closerPeers: await this.#closerPeers(key, from), providerPeers: [] }
    const record = await this.#init.records.get(key, { signal })
    if (record !== undefined) {
      try {
        await this.#init.validation.validate(key, record.value)
        reply.record = record
      } catch {
        // no longer valid (e.g. a validator changed): drop it
        await this.#init.records.delete(key, { signal })
      }
    }
    return reply
  }

  async #putValue (request: DhtMessage, signal?: AbortSignal): Promise<DhtMessage> {
    const key = this.#requireKey(request)
    const record = request.record
    if (record === undefined) throw new InvalidMessageError('PUT_VALUE without a record')
    if (!equalBytes(record.key, key)) throw new InvalidMessageError('PUT_VALUE record key differs from the message key')
    await this.#init.validation.validate(key, record.value)
    const existing = await this.#init.records.get(key, { signal })
    if (existing !== undefined && !equalBytes(existing.value, record.value)) {
      // keep the better of the two
      if (this.#init.validation.select(key, [record.value, existing.value]) !== 0) return request
    }
    await this.#init.records.put(key, record.value, { signal })
    return request
  }

  async #getProviders (from: PeerId, request: DhtMessage, signal?: AbortSignal): Promise<DhtMessage> {
    const key = this.#requireKey(request)
    const providers = await this.#init.providers.getProviders(key, { signal, limit: this.#init.limits.maxPeers })
    const providerPeers: DhtPeer[] = []
    for (const provider of providers) providerPeers.push(await this.#init.network.peerInfo(provider))
    return { type: MessageType.GET_PROVIDERS, key, closerPeers: await this.#closerPeers(key, from), providerPeers }
  }

  async #addProvider (from: PeerId, request: DhtMessage, signal?: AbortSignal): Promise<void> {
    const key = this.#requireKey(request)
    for (const provider of request.providerPeers) {
      // only the sender may announce itself: anything else would let one peer plant others
      if (!equalBytes(provider.id, from.bytes)) continue
      let id: PeerId
      try {
        id = peerIdFromMultihash(provider.id)
      } catch {
        continue
      }
      const addrs = parseWireAddrs(provider.addrs)
      if (addrs.length > 0) await this.#init.components.peerStore.merge(id, { multiaddrs: addrs, addressTtl: this.#init.providerAddrTtl }, { signal })
      await this.#init.providers.addProvider(key, id, { signal })
      return
    }
  }
}
