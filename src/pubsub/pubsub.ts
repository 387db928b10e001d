/**
 * What FloodSub and GossipSub share (specs pubsub/README.md): peer and stream management (one
 * outbound stream per peer for writing, inbound streams only read), subscription tracking and
 * announcements, the message pipeline (signing policy, seen-cache, async topic validators with
 * accept / reject / ignore) and the application API. A router subclass decides where messages
 * go (`route`) and handles control messages; the hooks it overrides are the `protected` ones.
 */
import type { Connection } from '../interface/connection.ts'
import type { NodeComponents, Startable } from '../interface/components.ts'
import type { PeerId } from '../interface/peer-id.ts'
import type { PublicKey } from '../interface/keys.ts'
import type { Stream } from '../interface/stream.ts'
import type { Logger } from '../interface/logger.ts'
import { TypedEventEmitter } from '../util/events.ts'
import { InvalidParametersError, NotStartedError, ServiceStoppedError, StreamResetError } from '../util/errors.ts'
import { StreamReader } from '../util/stream-reader.ts'
import { OutboundStream } from './outbound-stream.ts'
import { decodeRpc, encodeRpcFrame, DEFAULT_RPC_LIMITS, type ControlMessage, type PubSubRpcMessage, type Rpc, type RpcLimits } from './rpc.ts'
import { TimeCache, messageIdKey } from './seen-cache.ts'
import { buildMessage, checkMessageSignature, defaultMessageIdFn, seqnoToBigInt, StrictSign, type MessageIdFn, type SignatureCheckFailure, type SignaturePolicy } from './sign.ts'
import { TopicValidatorResult, type PubSubEvents, type PubSubMessage, type PubSubOptions, type PublishResult, type TopicValidator } from './types.ts'
import { Deadline, withDeadline } from '../util/deadline.ts'

export type PubSubComponents = Pick<NodeComponents, 'peerId' | 'privateKey' | 'registrar' | 'connectionManager' | 'peerStore' | 'logger'> & Partial<Pick<NodeComponents, 'metrics'>>

/** Everything we know about one connected pubsub peer. */
export class PubSubPeer {
  readonly id: PeerId
  /** `id.toString()`, the key of every per-peer map. */
  readonly key: string
  /** The protocol our outbound stream negotiated (what the peer speaks to us). */
  protocol?: string
  outbound?: OutboundStream
  opening?: Promise<void>
  /** Frames sent while `opening`: the peer's subscriptions can arrive before our stream is up. */
  pending?: Uint8Array[]
  readonly inbound = new Set<Stream>()
  /** Topics the peer told us it is subscribed to. */
  readonly topics = new Set<string>()
  /** The connection the outbound stream runs on. */
  connection?: Connection

  constructor (id: PeerId) {
    this.id = id
    this.key = id.toString()
  }
}

/** Why a message was not delivered, for routers that score peers. */
export type RejectReason = SignatureCheckFailure | 'validator-reject' | 'self-origin' | 'topic-not-subscribed'

export abstract class PubSubBase extends TypedEventEmitter<PubSubEvents> implements Startable {
  readonly serviceCapabilities: readonly string[] = ['@libp2p/pubsub']
  /** Peers' protocols come from identify: without it no peer is ever known to speak pubsub. */
  readonly serviceDependencies: readonly string[] = ['@libp2p/identify']
  /** Protocols we accept and propose, most preferred first. */
  readonly protocols: string[]
  readonly topicValidators = new Map<string, TopicValidator>()
  readonly globalSignaturePolicy: SignaturePolicy
  protected readonly components: PubSubComponents
  protected readonly log: Logger
  protected readonly peers = new Map<string, PubSubPeer>()
  /** Peers subscribed to each topic, by peer key. */
  protected readonly topicPeers = new Map<string, Set<string>>()
  protected readonly subscriptions = new Set<string>()
  protected readonly limits: RpcLimits
  protected readonly msgIdFn: MessageIdFn
  protected readonly seen: TimeCache
  protected started = false
  readonly #options: PubSubOptions
  readonly #validating = new Set<string>()
  #pendingValidations = 0
  readonly #topologyIds: string[] = []
  #shutdown = new AbortController()

  constructor (components: PubSubComponents, protocols: string[], options: PubSubOptions, logName: string) {
    super()
    this.components = components
    this.protocols = protocols
    this.#options = options
    this.log = components.logger(logName)
    this.globalSignaturePolicy = options.globalSignaturePolicy ?? StrictSign
    this.msgIdFn = options.msgIdFn ?? defaultMessageIdFn(this.globalSignaturePolicy)
    this.limits = { ...DEFAULT_RPC_LIMITS, ...options.rpcLimits }
    this.seen = new TimeCache({ ttlMs: options.seenTTL ?? 120_000, maxSize: options.maxSeenCacheSize })
  }

  // ------------------------------------------------------------ lifecycle --

  start (): void {
    if (this.started) return
    this.started = true
    this.#shutdown = new AbortController()
    const { registrar } = this.components
    for (const protocol of this.protocols) {
      registrar.handle(protocol, (stream, connection) => { this.#onInboundStream(stream, connection) }, {
        maxInboundStreams: 32,
        maxOutboundStreams: 4
      })
      this.#topologyIds.push(registrar.register(protocol, {
        onConnect: (peerId, connection) => { this.#ensureOutbound(peerId, connection) },
        onDisconnect: (peerId) => { this.#onDisconnect(peerId) }
      }))
    }
    this.onStart()
  }

  async stop (): Promise<void> {
    if (!this.started) return
    // frames held for streams still being opened (a message published right after connecting)
    // go out before we stop: wait for those openings, briefly
    const opening = [...this.peers.values()].filter(p => p.pending !== undefined).map(p => p.opening)
    if (opening.length > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined
      await Promise.race([Promise.allSettled(opening), new Promise(resolve => { timer = setTimeout(resolve, 2_000) })])
      clearTimeout(timer)
    }
    if (!this.started) return
    this.started = false
    this.#shutdown.abort(new ServiceStoppedError('pubsub stopped'))
    const { registrar } = this.components
    for (const protocol of this.protocols) registrar.unhandle(protocol)
    for (const id of this.#topologyIds) registrar.unregister(id)
    this.#topologyIds.length = 0
    this.onStop()
    for (const peer of this.peers.values()) {
      // flushed, not aborted: what was just published still reaches the peer
      peer.outbound?.close()
      for (const s of peer.inbound) s.abort(new ServiceStoppedError('pubsub stopped'))
    }
    this.peers.clear()
    this.topicPeers.clear()
    this.seen.clear()
    this.#validating.clear()
  }

  // ------------------------------------------------------------------ API --

  subscribe (topic: string): void {
    if (!this.started) throw new NotStartedError('pubsub is not started')
    if (typeof topic !== 'string' || topic === '') throw new InvalidParametersError('topic must be a non-empty string')
    if (this.subscriptions.has(topic)) return
    this.subscriptions.add(topic)
    this.#announce(topic, true)
    this.onJoin(topic)
  }

  unsubscribe (topic: string): void {
    if (!this.subscriptions.delete(topic)) return
    this.#announce(topic, false)
    this.onLeave(topic)
  }

  getTopics (): string[] {
    return [...this.subscriptions]
  }

  /** Peers that told us they subscribe to `topic`. */
  getSubscribers (topic: string): PeerId[] {
    const out: PeerId[] = []
    for (const key of this.topicPeers.get(topic) ?? []) {
      const peer = this.peers.get(key)
      if (peer !== undefined) out.push(peer.id)
    }
    return out
  }

  /** Peers with an open pubsub stream. */
  getPeers (): PeerId[] {
    return [...this.peers.values()].filter(p => p.outbound !== undefined).map(p => p.id)
  }

  abstract getMeshPeers (topic: string): PeerId[]

  /** Signs (per the policy) and sends a message; resolves with the peers it went to directly. */
  async publish (topic: string, data: Uint8Array): Promise<PublishResult> {
    if (!this.started) throw new NotStartedError('pubsub is not started')
    if (typeof topic !== 'string' || topic === '') throw new InvalidParametersError('topic must be a non-empty string')
    if (!(data instanceof Uint8Array)) throw new InvalidParametersError('data must be a Uint8Array')
    const msg = await buildMessage(this.globalSignaturePolicy, this.components.privateKey, this.components.peerId, topic, data)
    const size = encodeRpcFrame({ subscriptions: [], messages: [msg] }).length
    if (size > this.limits.maxRpcSize) throw new InvalidParametersError(`message of ${size} bytes exceeds the ${this.limits.maxRpcSize} byte RPC limit`)
    const id = await this.msgIdFn(msg)
    const key = messageIdKey(id)
    this.seen.add(key, true)
    const recipients = this.route(key, msg, undefined)
    if (this.#options.emitSelf === true && this.subscriptions.has(topic)) {
      this.#deliver(msg, id, this.components.peerId)
    }
    return { recipients: recipients.map(p => p.id) }
  }

  // -------------------------------------------------------- router hooks --

  protected onStart (): void {}
  protected onStop (): void {}
  protected onJoin (_topic: string): void {}
  protected onLeave (_topic: string): void {}
  /** A peer appeared (first stream either way); `peer.connection` is set. */
  protected onPeerCreated (_peer: PubSubPeer): void {}
  /** Our outbound stream to the peer is open (it can receive from us). */
  protected onPeerAdded (_peer: PubSubPeer): void {}
  protected onPeerRemoved (_peer: PubSubPeer): void {}
  protected onPeerTopicChange (_peer: PubSubPeer, _topic: string, _subscribed: boolean): void {}
  /** Before anything else is done with an RPC; false drops it (graylisting). */
  protected acceptRpcFrom (_peer: PubSubPeer, _rpc: Rpc): boolean { return true }
  protected handleControl (_peer: PubSubPeer, _control: ControlMessage): void {}
  /** A message arrived that was not seen before, before validation (IDONTWANT goes here). */
  protected onFirstSeen (_peer: PubSubPeer, _key: string, _msg: PubSubRpcMessage): void {}
  protected onDuplicate (_peer: PubSubPeer, _key: string, _msg: PubSubRpcMessage): void {}
  protected onRejected (_peer: PubSubPeer, _key: string | undefined, _msg: PubSubRpcMessage, _reason: RejectReason): void {}
  protected onIgnored (_peer: PubSubPeer, _key: string, _msg: PubSubRpcMessage): void {}
  protected onValidated (_peer: PubSubPeer, _key: string, _msg: PubSubRpcMessage): void {}
  /** Sends an accepted message on; returns the peers it went to. `from` is undefined for our own. */
  protected abstract route (key: string, msg: PubSubRpcMessage, from: PubSubPeer | undefined): PubSubPeer[]

  // ---------------------------------------------------------------- wire --

  /** Sends one RPC to `peer`; false if the peer has no stream (open or opening) or its queue is full. */
  protected sendRpc (peer: PubSubPeer, rpc: Rpc): boolean {
    if (peer.outbound === undefined && peer.opening === undefined) return false
    return this.sendFrame(peer, encodeRpcFrame(rpc))
  }

  /** Sends an already encoded frame (the same bytes to many peers). */
  protected sendFrame (peer: PubSubPeer, frame: Uint8Array): boolean {
    if (peer.outbound !== undefined) return peer.outbound.push(frame)
    if (peer.opening === undefined) return false
    // our stream is still being opened: hold the frame for it (go queues per peer from the
    // moment it knows the peer), within the same bound as a stream that pushes back
    const pending = peer.pending ??= []
    if (pending.length >= (this.#options.maxQueuedFramesPerPeer ?? 256)) return false
    pending.push(frame)
    return true
  }

  #announce (topic: string, subscribe: boolean): void {
    const frame = encodeRpcFrame({ subscriptions: [{ subscribe, topic }], messages: [] })
    for (const peer of this.peers.values()) this.sendFrame(peer, frame)
  }

  #getOrAddPeer (peerId: PeerId, connection: Connection): PubSubPeer {
    const key = peerId.toString()
    let peer = this.peers.get(key)
    if (peer === undefined) {
      peer = new PubSubPeer(peerId)
      peer.connection = connection
      this.peers.set(key, peer)
      this.onPeerCreated(peer)
    }
    return peer
  }

  #ensureOutbound (peerId: PeerId, connection: Connection): void {
    if (!this.started || connection.status !== 'open') return
    if (peerId.equals(this.components.peerId)) return
    const peer = this.#getOrAddPeer(peerId, connection)
    if (peer.outbound !== undefined || peer.opening !== undefined) return
    peer.opening = this.#openOutbound(peer, connection).finally(() => {
      peer.opening = undefined
      peer.pending = undefined
      if (peer.outbound === undefined && peer.inbound.size === 0) this.#removePeer(peer)
    })
  }

  async #openOutbound (peer: PubSubPeer, connection: Connection): Promise<void> {
    const timeout = this.#options.streamOpenTimeout ?? 10_000
    let stream: Stream
    try {
      stream = await withDeadline(timeout, this.#shutdown.signal, `opening a pubsub stream timed out after ${timeout} ms`, async signal => await connection.newStream(this.protocols, { signal }))
    } catch (err) {
      this.log('could not open a pubsub stream to %s: %s', peer.key, (err as Error).message)
      return
    }
    if (!this.started || this.peers.get(peer.key) !== peer) {
      stream.abort(new StreamResetError(this.started ? 'the pubsub peer is gone' : 'pubsub stopped'))
      return
    }
    const outbound = new OutboundStream(stream, {
      maxQueuedFrames: this.#options.maxQueuedFramesPerPeer,
      onClose: (err) => { this.#onOutboundClosed(peer, outbound, err) }
    })
    peer.outbound = outbound
    peer.protocol = stream.protocol
    peer.connection = connection
    this.log('pubsub stream to %s open (%s)', peer.key, stream.protocol)
    // the first RPC on a new stream announces every subscription (the "hello")
    if (this.subscriptions.size > 0) {
      this.sendRpc(peer, { subscriptions: [...this.subscriptions].map(topic => ({ subscribe: true, topic })), messages: [] })
    }
    const pending = peer.pending
    peer.pending = undefined
    if (pending !== undefined) for (const frame of pending) outbound.push(frame)
    this.onPeerAdded(peer)
  }

  #onOutboundClosed (peer: PubSubPeer, outbound: OutboundStream, err?: Error): void {
    if (peer.outbound !== outbound) return
    this.log('pubsub stream to %s ended: %s', peer.key, err?.message ?? 'closed by the remote')
    peer.outbound = undefined
    if (!this.started || this.peers.get(peer.key) !== peer) return
    // the connection may still be fine (the remote replaced its inbound stream): reopen once
    const connection = this.components.connectionManager.getConnections(peer.id).find(c => c.status === 'open')
    if (connection !== undefined && err === undefined) {
      this.#ensureOutbound(peer.id, connection)
    } else if (connection === undefined) {
      this.#removePeer(peer)
    }
  }

  #onDisconnect (peerId: PeerId): void {
    const peer = this.peers.get(peerId.toString())
    if (peer === undefined) return
    // another connection to the peer may still be open
    if (this.components.connectionManager.getConnections(peerId).some(c => c.status === 'open')) return
    this.#removePeer(peer)
  }

  #removePeer (peer: PubSubPeer): void {
    if (this.peers.get(peer.key) !== peer) return
    this.peers.delete(peer.key)
    peer.outbound?.close()
    peer.outbound = undefined
    for (const topic of peer.topics) this.topicPeers.get(topic)?.delete(peer.key)
    this.onPeerRemoved(peer)
    peer.topics.clear()
  }

  #onInboundStream (stream: Stream, connection: Connection): void {
    if (!this.started) {
      stream.abort(new ServiceStoppedError('pubsub stopped'))
      return
    }
    const peer = this.#getOrAddPeer(connection.remotePeer, connection)
    peer.inbound.add(stream)
    // a peer that opened a stream to us speaks pubsub even if identify has not said so yet
    this.#ensureOutbound(connection.remotePeer, connection)
    void this.#readInbound(peer, stream).finally(() => {
      peer.inbound.delete(stream)
      // a peer that never took our stream is not tracked by the topology: forget it here
      if (peer.inbound.size === 0 && peer.outbound === undefined && peer.opening === undefined) this.#removePeer(peer)
    })
  }

  async #readInbound (peer: PubSubPeer, stream: Stream): Promise<void> {
    const reader = new StreamReader(stream)
    try {
      for (;;) {
        const bytes = await reader.readLP({ maxLength: this.limits.maxRpcSize, signal: this.#shutdown.signal })
        if (bytes === null) break
        // decoded fields are views: give them a buffer of their own
        const rpc = decodeRpc(bytes.slice(), this.limits)
        if (this.peers.get(peer.key) !== peer) break
        this.#handleRpc(peer, rpc)
      }
      await stream.closeWrite().catch(() => {})
    } catch (err) {
      this.log('inbound pubsub stream from %s failed: %s', peer.key, (err as Error).message)
      stream.abort(err as Error)
    }
  }

  #handleRpc (peer: PubSubPeer, rpc: Rpc): void {
    if (!this.acceptRpcFrom(peer, rpc)) return
    if (rpc.subscriptions.length > 0) {
      const changes: Array<{ topic: string, subscribe: boolean }> = []
      for (const sub of rpc.subscriptions) {
        if (sub.topic === '') continue
        if (sub.subscribe === peer.topics.has(sub.topic)) continue
        let set = this.topicPeers.get(sub.topic)
        if (sub.subscribe) {
          if (set === undefined) {
            set = new Set()
            this.topicPeers.set(sub.topic, set)
          }
          set.add(peer.key)
          peer.topics.add(sub.topic)
        } else {
          set?.delete(peer.key)
          if (set?.size === 0) this.topicPeers.delete(sub.topic)
          peer.topics.delete(sub.topic)
        }
        changes.push({ topic: sub.topic, subscribe: sub.subscribe })
        this.onPeerTopicChange(peer, sub.topic, sub.subscribe)
      }
      if (changes.length > 0) this.safeDispatch('subscription-change', { peerId: peer.id, subscriptions: changes })
    }
    for (const msg of rpc.messages) {
      void this.#handleMessage(peer, msg).catch((err: Error) => { this.log.error('handling a message from %s failed: %s', peer.key, err.message) })
    }
    if (rpc.control !== undefined) this.handleControl(peer, rpc.control)
  }

  /** The validation pipeline for one received message. */
  async #handleMessage (peer: PubSubPeer, msg: PubSubRpcMessage): Promise<void> {
    // only messages for topics we subscribe to are handled (a router may relay others itself)
    if (!this.subscriptions.has(msg.topic)) return
    let id: Uint8Array
    try {
      id = await this.msgIdFn(msg)
    } catch {
      this.onRejected(peer, undefined, msg, 'invalid-peer-id')
      return
    }
    const key = messageIdKey(id)
    if (this.seen.has(key) || this.#validating.has(key)) {
      this.onDuplicate(peer, key, msg)
      return
    }
    if (msg.from !== undefined && this.components.peerId.equals(msg.from)) {
      this.onRejected(peer, key, msg, 'self-origin')
      return
    }
    if (this.#pendingValidations >= (this.#options.maxPendingValidations ?? 8192)) {
      this.log('validation queue full, dropping a message from %s', peer.key)
      return
    }
    this.#pendingValidations++
    this.#validating.add(key)
    try {
      this.onFirstSeen(peer, key, msg)
      const check = await checkMessageSignature(this.globalSignaturePolicy, msg)
      if (!check.ok) {
        this.log('message from %s failed the signing policy: %s', peer.key, check.failure)
        this.onRejected(peer, key, msg, check.failure ?? 'invalid-signature')
        return
      }
      const message = toPubSubMessage(msg, check.author, check.key)
      const validator = this.topicValidators.get(msg.topic)
      if (validator !== undefined) {
        const result = await this.#runValidator(validator, peer, message)
        if (result === TopicValidatorResult.Reject) {
          this.onRejected(peer, key, msg, 'validator-reject')
          return
        }
        if (result !== TopicValidatorResult.Accept) {
          this.onIgnored(peer, key, msg)
          return
        }
      }
      if (!this.started || !this.seen.add(key, true)) return
      this.onValidated(peer, key, msg)
      if (this.subscriptions.has(msg.topic)) this.#emit(message, id, peer.id)
      this.route(key, msg, peer)
    } finally {
      this.#validating.delete(key)
      this.#pendingValidations--
    }
  }

  async #runValidator (validator: TopicValidator, peer: PubSubPeer, message: PubSubMessage): Promise<TopicValidatorResult> {
    const deadline = new Deadline(this.#options.validatorTimeout ?? 10_000, this.#shutdown.signal, 'topic validator timed out')
    const signal = deadline.signal
    try {
      const pending = validator(peer.id, message, signal)
      if (typeof pending === 'string') return pending
      return await new Promise<TopicValidatorResult>((resolve) => {
        const onAbort = (): void => { resolve(TopicValidatorResult.Ignore) }
        signal.addEventListener('abort', onAbort, { once: true })
        pending.then(resolve, (err: Error) => {
          this.log('topic validator threw: %s', err.message)
          resolve(TopicValidatorResult.Ignore)
        }).finally(() => { signal.removeEventListener('abort', onAbort) })
      })
    } catch (err) {
      this.log('topic validator threw: %s', (err as Error).message)
      return TopicValidatorResult.Ignore
    } finally {
      deadline.clear()
    }
  }

  #deliver (msg: PubSubRpcMessage, id: Uint8Array, source: PeerId): void {
    const author = msg.from !== undefined ? this.components.peerId : undefined
    this.#emit(toPubSubMessage(msg, author, author !== undefined ? this.components.privateKey.publicKey : undefined), id, source)
  }

  #emit (message: PubSubMessage, msgId: Uint8Array, propagationSource: PeerId): void {
    this.safeDispatch('message', { ...message, msgId, propagationSource })
  }
}

function toPubSubMessage (msg: PubSubRpcMessage, author: PeerId | undefined, key: PublicKey | undefined): PubSubMessage {
  const data = msg.data ?? new Uint8Array(0)
  if (author === undefined || key === undefined || msg.signature === undefined) return { type: 'unsigned', topic: msg.topic, data }
  return {
    type: 'signed',
    from: author,
    topic: msg.topic,
    data,
    sequenceNumber: seqnoToBigInt(msg.seqno) ?? 0n,
    signature: msg.signature,
    key
  }
}
