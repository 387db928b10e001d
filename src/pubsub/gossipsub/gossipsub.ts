/**
 * GossipSub (`/meshsub/1.2.0`, `/1.1.0`, `/1.0.0`, falling back to `/floodsub/1.0.0`; specs
 * pubsub/gossipsub/gossipsub-v1.0.md, -v1.1.md, -v1.2.md). Messages travel over a sparse mesh
 * per topic (degree D, kept between Dlo and Dhi by the heartbeat, with Dout outbound peers and
 * opportunistic grafting), published ones also to every subscriber (flood publishing) or a
 * fanout set; other peers learn of them through IHAVE gossip from the message cache and pull
 * them with IWANT. PRUNE carries a backoff and, optionally, peer exchange with signed peer
 * records; IDONTWANT (v1.2) saves sending large messages a peer already has. Optional v1.1 peer
 * scoring drives who gets into the mesh, who gets gossip and whose RPCs are ignored.
 * `services: { identify: identify(), pubsub: gossipsub() }`.
 */
import type { PeerId } from '../../interface/peer-id.ts'
import { ipOf } from '../../util/multiaddr.ts'
import { FLOODSUB_PROTOCOL, floodToSubscribers } from '../floodsub/floodsub.ts'
import { GossipsubMetrics } from './metrics.ts'
import { PubSubBase, type PubSubComponents, type PubSubPeer, type RejectReason } from '../pubsub.ts'
import { emptyControl, encodeRpcFrame, messageSize, type ControlIHave, type ControlMessage, type ControlPrune, type PubSubRpcMessage } from '../rpc.ts'
import { messageIdFromKey, messageIdKey } from '../seen-cache.ts'
import { MessageCache } from './mcache.ts'
import { gossipSubParams, GOSSIPSUB_PROTOCOL_V10, GOSSIPSUB_PROTOCOL_V11, GOSSIPSUB_PROTOCOL_V12, type GossipSubOptions, type GossipSubParams } from './params.ts'
import { PeerScore } from './score.ts'
import { describePeers } from './diagnostics.ts'
import type { PubSubPeerDiagnostics } from '../../interface/diagnostics.ts'
import { Backoffs } from './backoff.ts'
import { IWantPromises } from './iwant-promises.ts'
import { PeerExchange } from './peer-exchange.ts'
import { selectMeshSurvivors, shuffle } from './mesh-selection.ts'
import { peerScoring, type PeerScoreThresholds } from './score-params.ts'

/** Room for the RPC framing around the messages of one IWANT answer. */
const RPC_OVERHEAD = 64

export class GossipSub extends PubSubBase {
  readonly params: GossipSubParams
  readonly score: PeerScore | undefined
  readonly #metrics: GossipsubMetrics | undefined
  readonly thresholds: PeerScoreThresholds
  readonly mcache: MessageCache
  /** Mesh peers per topic we subscribe to. */
  readonly mesh = new Map<string, Set<string>>()
  /** Peers we publish to for topics we do not subscribe to. */
  readonly fanout = new Map<string, Set<string>>()
  readonly #fanoutLastPublished = new Map<string, number>()
  /** Per topic, per peer: no GRAFT before this time. */
  readonly #backoff = new Backoffs()
  /** IHAVEs received and ids asked for, per peer, this heartbeat. */
  readonly #peerHave = new Map<string, number>()
  readonly #iasked = new Map<string, number>()
  /** Ids a peer said it does not want (v1.2), with the heartbeat they arrived in. */
  readonly #dontWant = new Map<string, Map<string, number>>()
  readonly #dontWantCount = new Map<string, number>()
  readonly #promises = new IWantPromises()
  /** IHAVE gossip to send at the end of the heartbeat, per peer. */
  readonly #pendingGossip = new Map<string, ControlIHave[]>()
  readonly #options: GossipSubOptions
  #heartbeatTimer: ReturnType<typeof setTimeout> | undefined
  #heartbeatTicks = 0
  readonly #px: PeerExchange

  constructor (components: PubSubComponents, options: GossipSubOptions = {}) {
    const protocols = [GOSSIPSUB_PROTOCOL_V12, GOSSIPSUB_PROTOCOL_V11, GOSSIPSUB_PROTOCOL_V10]
    if (options.floodsubFallback !== false) protocols.push(FLOODSUB_PROTOCOL)
    super(components, protocols, options, 'gossipsub')
    this.#options = options
    this.params = gossipSubParams(options)
    this.mcache = new MessageCache(this.params.mcacheLength, this.params.mcacheGossip)
    this.#metrics = components.metrics === undefined
      ? undefined
      : new GossipsubMetrics(components.metrics, { mesh: this.mesh, peerKeys: () => this.peers.keys(), score: options.scoreParams === undefined ? undefined : key => this.score?.score(key) ?? 0 })
    const scoring = peerScoring(options)
    this.score = scoring.params === undefined ? undefined : new PeerScore(scoring.params)
    this.thresholds = scoring.thresholds
    this.#px = new PeerExchange({
      params: this.params,
      components: this.components,
      log: this.log,
      candidates: (topic, n, filter) => this.#candidates(topic, n, filter),
      scoreOf: (key) => this.#scoreOf(key),
      isConnected: (key) => this.peers.get(key)?.outbound !== undefined
    })
  }

  /** The peer's score (0 without scoring). */
  getScore (peer: PeerId | string): number {
    return this.score?.score(typeof peer === 'string' ? peer : peer.toString()) ?? 0
  }

  /** Diagnostics (PubSubDiagnostics): every peer with its topics, meshes and score. */
  peerDiagnostics (): PubSubPeerDiagnostics[] {
    return describePeers(this.peers.values(), this.mesh, this.score)
  }

  getMeshPeers (topic: string): PeerId[] {
    return this.#ids(this.mesh.get(topic))
  }

  getFanoutPeers (topic: string): PeerId[] {
    return this.#ids(this.fanout.get(topic))
  }

  #ids (keys: Set<string> | undefined): PeerId[] {
    const out: PeerId[] = []
    for (const key of keys ?? []) {
      const peer = this.peers.get(key)
      if (peer !== undefined) out.push(peer.id)
    }
    return out
  }

  #scoreOf (key: string): number {
    return this.score?.score(key) ?? 0
  }

  #isGossipsub (peer: PubSubPeer): boolean {
    return peer.protocol !== undefined && peer.protocol !== FLOODSUB_PROTOCOL
  }

  // ------------------------------------------------------------ lifecycle --

  protected override onStart (): void {
    this.#metrics?.start()
    const tick = (): void => {
      try {
        this.heartbeat()
      } catch (err) {
        this.log.error('heartbeat failed: %s', (err as Error).message)
      }
      if (this.started) this.#heartbeatTimer = setTimeout(tick, this.params.heartbeatInterval)
    }
    this.#heartbeatTimer = setTimeout(tick, this.params.heartbeatInitialDelay)
  }

  protected override onStop (): void {
    this.#metrics?.stop()
    clearTimeout(this.#heartbeatTimer)
    this.#heartbeatTimer = undefined
    this.mesh.clear()
    this.fanout.clear()
    this.#backoff.clear()
    this.#promises.clear()
    this.#pendingGossip.clear()
    this.#dontWant.clear()
  }

  protected override onPeerCreated (peer: PubSubPeer): void {
    const addr = peer.connection?.remoteAddr
    const ip = addr !== undefined ? ipOf(addr) : undefined
    this.score?.addPeer(peer.key, peer.id, ip !== undefined ? [ip] : [])
  }

  protected override onPeerRemoved (peer: PubSubPeer): void {
    for (const [topic, set] of this.mesh) {
      if (set.delete(peer.key)) this.safeDispatch('gossipsub:prune', { peerId: peer.id, topic, direction: 'inbound' })
    }
    for (const set of this.fanout.values()) set.delete(peer.key)
    this.#peerHave.delete(peer.key)
    this.#iasked.delete(peer.key)
    this.#dontWant.delete(peer.key)
    this.#pendingGossip.delete(peer.key)
    this.score?.removePeer(peer.key)
  }

  protected override onPeerTopicChange (peer: PubSubPeer, topic: string, subscribed: boolean): void {
    if (subscribed) return
    if (this.mesh.get(topic)?.delete(peer.key) === true) {
      this.score?.prune(peer.key, topic)
      this.safeDispatch('gossipsub:prune', { peerId: peer.id, topic, direction: 'inbound' })
    }
    this.fanout.get(topic)?.delete(peer.key)
  }

  protected override acceptRpcFrom (peer: PubSubPeer): boolean {
    if (this.score === undefined) return true
    return this.#scoreOf(peer.key) >= this.thresholds.graylistThreshold
  }

  // ------------------------------------------------------------ join/leave --

  protected override onJoin (topic: string): void {
    if (this.mesh.has(topic)) return
    const meshPeers = new Set<string>()
    const fanout = this.fanout.get(topic)
    if (fanout !== undefined) {
      for (const key of fanout) {
        if (meshPeers.size >= this.params.D) break
        if (this.#scoreOf(key) >= 0 && !this.#backoff.isActive(topic, key)) meshPeers.add(key)
      }
      this.fanout.delete(topic)
      this.#fanoutLastPublished.delete(topic)
    }
    if (meshPeers.size < this.params.D) {
      const more = this.#candidates(topic, this.params.D - meshPeers.size, (p) => !meshPeers.has(p.key) && !this.#backoff.isActive(topic, p.key) && this.#scoreOf(p.key) >= 0)
      for (const p of more) meshPeers.add(p.key)
    }
    this.mesh.set(topic, meshPeers)
    for (const key of meshPeers) {
      const peer = this.peers.get(key)
      if (peer === undefined) continue
      this.score?.graft(key, topic)
      this.sendRpc(peer, { subscriptions: [], messages: [], control: { ...emptyControl(), graft: [{ topic }] } })
      this.safeDispatch('gossipsub:graft', { peerId: peer.id, topic, direction: 'outbound' })
    }
  }

  protected override onLeave (topic: string): void {
    const meshPeers = this.mesh.get(topic)
    if (meshPeers === undefined) return
    this.mesh.delete(topic)
    for (const key of meshPeers) {
      const peer = this.peers.get(key)
      if (peer === undefined) continue
      this.score?.prune(key, topic)
      void this.#sendPrunes(peer, [topic], this.params.unsubscribeBackoff)
      this.safeDispatch('gossipsub:prune', { peerId: peer.id, topic, direction: 'outbound' })
    }
  }

  /** Up to `n` random gossipsub peers subscribed to `topic` that pass `filter`. */
  #candidates (topic: string, n: number, filter: (peer: PubSubPeer) => boolean): PubSubPeer[] {
    const out: PubSubPeer[] = []
    for (const key of this.topicPeers.get(topic) ?? []) {
      const peer = this.peers.get(key)
      if (peer === undefined || !this.#isGossipsub(peer) || peer.outbound === undefined) continue
      if (filter(peer)) out.push(peer)
    }
    shuffle(out)
    if (n < out.length) out.length = n
    return out
  }

  // ------------------------------------------------------------- routing --

  protected route (key: string, msg: PubSubRpcMessage, from: PubSubPeer | undefined): PubSubPeer[] {
    this.mcache.put(key, msg)
    const topic = msg.topic
    const send = (peer: PubSubPeer, frame: Uint8Array): boolean => this.sendFrame(peer, frame)
    const notDontWant = (peer: PubSubPeer): boolean => this.#dontWant.get(peer.key)?.has(key) !== true
    if (from === undefined) {
      // our own message
      if (this.params.floodPublish) {
        return floodToSubscribers(this.peers, this.topicPeers.get(topic), msg, undefined, send,
          (peer) => this.#scoreOf(peer.key) >= this.thresholds.publishThreshold)
      }
      let targets = this.mesh.get(topic)
      if (targets === undefined) {
        targets = this.fanout.get(topic)
        if (targets === undefined || targets.size === 0) {
          targets = new Set(this.#candidates(topic, this.params.D, (p) => this.#scoreOf(p.key) >= this.thresholds.publishThreshold).map(p => p.key))
          this.fanout.set(topic, targets)
        }
        this.#fanoutLastPublished.set(topic, Date.now())
      }
      return floodToSubscribers(this.peers, this.topicPeers.get(topic), msg, undefined, send,
        (peer) => !this.#isGossipsub(peer) ? this.#scoreOf(peer.key) >= this.thresholds.publishThreshold : targets.has(peer.key))
    }
    const meshPeers = this.mesh.get(topic)
    return floodToSubscribers(this.peers, this.topicPeers.get(topic), msg, from, send, (peer) => {
      if (!this.#isGossipsub(peer)) return this.#scoreOf(peer.key) >= this.thresholds.publishThreshold
      return meshPeers?.has(peer.key) === true && notDontWant(peer)
    })
  }

  // ------------------------------------------------------ message events --

  protected override onFirstSeen (peer: PubSubPeer, key: string, msg: PubSubRpcMessage): void {
    this.#metrics?.message(msg.topic, 'delivered')
    this.score?.validating(peer.key, key)
    // a promise is kept as soon as the message arrives, whoever brings it
    this.#promises.settle(key)
    if ((msg.data?.length ?? 0) < this.params.idontwantMinDataSize) return
    const meshPeers = this.mesh.get(msg.topic)
    if (meshPeers === undefined) return
    let frame: Uint8Array | undefined
    for (const k of meshPeers) {
      const p = this.peers.get(k)
      if (p === undefined || p === peer || p.protocol !== GOSSIPSUB_PROTOCOL_V12) continue
      frame ??= encodeRpcFrame({ subscriptions: [], messages: [], control: { ...emptyControl(), idontwant: [{ messageIds: [messageIdFromKey(key)] }] } })
      this.sendFrame(p, frame)
    }
  }

  protected override onDuplicate (peer: PubSubPeer, key: string, msg: PubSubRpcMessage): void {
    this.#metrics?.message(msg.topic, 'duplicate')
    this.score?.duplicateMessage(peer.key, key, msg.topic)
  }

  protected override onRejected (peer: PubSubPeer, key: string | undefined, msg: PubSubRpcMessage, reason: RejectReason): void {
    this.#metrics?.message(msg.topic, 'rejected')
    if (key !== undefined) this.#promises.settle(key)
    // a message claiming to be ours, or with a bad signature, is the sender's fault
    this.score?.rejectMessage(peer.key, reason === 'self-origin' ? undefined : key, msg.topic)
  }

  protected override onIgnored (_peer: PubSubPeer, key: string): void {
    this.score?.ignoreMessage(key)
  }

  protected override onValidated (peer: PubSubPeer, key: string, msg: PubSubRpcMessage): void {
    this.score?.deliverMessage(peer.key, key, msg.topic)
  }

  // ------------------------------------------------------------- control --

  protected override handleControl (peer: PubSubPeer, control: ControlMessage): void {
    if (!this.#isGossipsub(peer)) return
    const iwant = this.#handleIHave(peer, control.ihave)
    const messages = this.#handleIWant(peer, control.iwant)
    const prunes = this.#handleGraft(peer, control.graft)
    this.#handlePrune(peer, control.prune)
    this.#handleIDontWant(peer, control.idontwant)
    if (iwant.length > 0) this.sendRpc(peer, { subscriptions: [], messages: [], control: { ...emptyControl(), iwant: [{ messageIds: iwant }] } })
    if (messages.length > 0) this.#sendMessages(peer, messages)
    if (prunes.length > 0) void this.#sendPrunes(peer, prunes, this.params.pruneBackoff)
  }

  #handleIHave (peer: PubSubPeer, ihave: ControlIHave[]): Uint8Array[] {
    if (ihave.length === 0) return []
    if (this.#scoreOf(peer.key) < this.thresholds.gossipThreshold) return []
    const have = (this.#peerHave.get(peer.key) ?? 0) + 1
    this.#peerHave.set(peer.key, have)
    if (have > this.params.maxIHaveMessages) return []
    const asked = this.#iasked.get(peer.key) ?? 0
    if (asked >= this.params.maxIHaveLength) return []
    const wanted = new Map<string, Uint8Array>()
    for (const e of ihave) {
      if (!this.mesh.has(e.topic)) continue
      for (const id of e.messageIds) {
        const key = messageIdKey(id)
        if (this.seen.has(key) || wanted.has(key)) continue
        wanted.set(key, id)
      }
    }
    if (wanted.size === 0) return []
    let keys = [...wanted.keys()]
    const room = this.params.maxIHaveLength - asked
    if (keys.length > room) {
      shuffle(keys)
      keys = keys.slice(0, room)
    }
    this.#iasked.set(peer.key, asked + keys.length)
    // one random id is the peer's promise: if it never comes, the peer is penalised
    const promised = keys[Math.floor(Math.random() * keys.length)]
    this.#promises.add(promised, peer.key, Date.now() + this.params.iwantFollowupTime)
    return keys.map(k => wanted.get(k) as Uint8Array)
  }

  #handleIWant (peer: PubSubPeer, iwant: Array<{ messageIds: Uint8Array[] }>): PubSubRpcMessage[] {
    if (iwant.length === 0) return []
    if (this.#scoreOf(peer.key) < this.thresholds.gossipThreshold) return []
    const out = new Map<string, PubSubRpcMessage>()
    for (const e of iwant) {
      for (const id of e.messageIds) {
        const key = messageIdKey(id)
        if (out.has(key)) continue
        const hit = this.mcache.getForPeer(key, peer.key)
        if (hit === undefined || hit.count > this.params.gossipRetransmission) continue
        out.set(key, hit.msg)
      }
    }
    return [...out.values()]
  }

  /** Answers IWANT, splitting into RPCs that stay under the size limit. */
  #sendMessages (peer: PubSubPeer, messages: PubSubRpcMessage[]): void {
    let batch: PubSubRpcMessage[] = []
    let size = RPC_OVERHEAD
    for (const m of messages) {
      const s = messageSize(m) + 8
      if (batch.length > 0 && size + s > this.limits.maxRpcSize) {
        this.sendRpc(peer, { subscriptions: [], messages: batch })
        batch = []
        size = RPC_OVERHEAD
      }
      batch.push(m)
      size += s
    }
    if (batch.length > 0) this.sendRpc(peer, { subscriptions: [], messages: batch })
  }

  /** Handles GRAFTs; returns the topics to answer with PRUNE. */
  #handleGraft (peer: PubSubPeer, graft: Array<{ topic: string }>): string[] {
    const prune: string[] = []
    const now = Date.now()
    for (const { topic } of graft) {
      const meshPeers = this.mesh.get(topic)
      if (meshPeers === undefined) continue
      if (meshPeers.has(peer.key)) continue
      const until = this.#backoff.until(topic, peer.key)
      if (until !== undefined && until > now) {
        // grafting during a backoff is misbehaviour, doubly so right after the prune
        this.score?.addPenalty(peer.key, 1)
        if (until - this.params.pruneBackoff + this.params.graftFloodThreshold > now) this.score?.addPenalty(peer.key, 1)
        this.#backoff.add(topic, peer.key, this.params.pruneBackoff)
        prune.push(topic)
        continue
      }
      if (this.#scoreOf(peer.key) < 0) {
        prune.push(topic)
        continue
      }
      if (meshPeers.size >= this.params.Dhi && peer.connection?.direction !== 'outbound') {
        prune.push(topic)
        continue
      }
      meshPeers.add(peer.key)
      this.score?.graft(peer.key, topic)
      this.safeDispatch('gossipsub:graft', { peerId: peer.id, topic, direction: 'inbound' })
    }
    return prune
  }

  #handlePrune (peer: PubSubPeer, prune: ControlPrune[]): void {
    for (const p of prune) {
      const meshPeers = this.mesh.get(p.topic)
      if (meshPeers === undefined) continue
      if (meshPeers.delete(peer.key)) {
        this.score?.prune(peer.key, p.topic)
        this.safeDispatch('gossipsub:prune', { peerId: peer.id, topic: p.topic, direction: 'inbound' })
      }
      const backoff = p.backoff !== undefined && p.backoff > 0 ? Math.min(p.backoff, 24 * 3600) * 1000 : this.params.pruneBackoff
      this.#backoff.add(p.topic, peer.key, backoff)
      if (p.peers.length > 0 && this.#scoreOf(peer.key) >= this.thresholds.acceptPXThreshold) {
        void this.#px.follow(p.peers)
      }
    }
  }

  #handleIDontWant (peer: PubSubPeer, idontwant: Array<{ messageIds: Uint8Array[] }>): void {
    if (idontwant.length === 0) return
    let count = this.#dontWantCount.get(peer.key) ?? 0
    let set = this.#dontWant.get(peer.key)
    if (set === undefined) {
      set = new Map()
      this.#dontWant.set(peer.key, set)
    }
    for (const e of idontwant) {
      for (const id of e.messageIds) {
        if (++count > this.params.maxIDontWantMessages) break
        set.set(messageIdKey(id), this.#heartbeatTicks)
      }
    }
    this.#dontWantCount.set(peer.key, count)
  }

  /** PRUNEs `topics` to `peer`, with backoff and (if enabled) signed peer records for PX. */
  async #sendPrunes (peer: PubSubPeer, topics: string[], backoffMs: number): Promise<void> {
    const entries: ControlPrune[] = []
    for (const topic of topics) {
      this.#backoff.add(topic, peer.key, backoffMs)
      const entry: ControlPrune = { topic, peers: [], backoff: Math.ceil(backoffMs / 1000) }
      if (this.params.doPX && this.#isPX(peer)) entry.peers = await this.#px.offer(topic, peer.key)
      entries.push(entry)
    }
    this.sendRpc(peer, { subscriptions: [], messages: [], control: { ...emptyControl(), prune: entries } })
  }

  #isPX (peer: PubSubPeer): boolean {
    return peer.protocol !== GOSSIPSUB_PROTOCOL_V10 && this.#scoreOf(peer.key) >= 0
  }

  // ----------------------------------------------------------- heartbeat --

  /** One heartbeat: mesh upkeep, fanout upkeep, gossip, cache shift (runs on a timer). */
  heartbeat (): void {
    const now = Date.now()
    this.#heartbeatTicks++
    this.score?.refresh()
    this.seen.prune(now)
    const toGraft = new Map<string, string[]>()
    const toPrune = new Map<string, string[]>()
    const add = (m: Map<string, string[]>, key: string, topic: string): void => {
      const list = m.get(key)
      if (list === undefined) m.set(key, [topic])
      else list.push(topic)
    }
    const { D, Dlo, Dhi, Dout } = this.params
    const isOut = (k: string): boolean => this.peers.get(k)?.connection?.direction === 'outbound'

    for (const [topic, meshPeers] of this.mesh) {
      const graft = (peer: PubSubPeer): void => {
        meshPeers.add(peer.key)
        this.score?.graft(peer.key, topic)
        add(toGraft, peer.key, topic)
        this.safeDispatch('gossipsub:graft', { peerId: peer.id, topic, direction: 'outbound' })
      }
      const prune = (key: string): void => {
        meshPeers.delete(key)
        this.score?.prune(key, topic)
        add(toPrune, key, topic)
        const peer = this.peers.get(key)
        if (peer !== undefined) this.safeDispatch('gossipsub:prune', { peerId: peer.id, topic, direction: 'outbound' })
      }
      for (const key of [...meshPeers]) {
        const peer = this.peers.get(key)
        if (peer === undefined || !peer.topics.has(topic)) meshPeers.delete(key)
        else if (this.#scoreOf(key) < 0) prune(key)
      }
      const eligible = (p: PubSubPeer): boolean => !meshPeers.has(p.key) && !this.#backoff.isActive(topic, p.key) && this.#scoreOf(p.key) >= 0
      if (meshPeers.size < Dlo) {
        for (const peer of this.#candidates(topic, D - meshPeers.size, eligible)) graft(peer)
      }
      if (meshPeers.size > Dhi) {
        for (const k of selectMeshSurvivors(meshPeers, this.params, k => this.#scoreOf(k), isOut).prune) prune(k)
      }
      if (meshPeers.size >= Dlo) {
        const outCount = [...meshPeers].filter(isOut).length
        if (outCount < Dout) {
          for (const peer of this.#candidates(topic, Dout - outCount, (p) => eligible(p) && p.connection?.direction === 'outbound')) graft(peer)
        }
      }
      if (this.score !== undefined && this.#heartbeatTicks % this.params.opportunisticGraftTicks === 0 && meshPeers.size > 1) {
        const scores = [...meshPeers].map(k => this.#scoreOf(k)).sort((a, b) => a - b)
        const median = scores[Math.floor(scores.length / 2)]
        if (median < this.thresholds.opportunisticGraftThreshold) {
          for (const peer of this.#candidates(topic, this.params.opportunisticGraftPeers, (p) => eligible(p) && this.#scoreOf(p.key) > median)) graft(peer)
        }
      }
      this.#emitGossip(topic, meshPeers)
    }

    for (const [topic, fanoutPeers] of this.fanout) {
      if ((this.#fanoutLastPublished.get(topic) ?? 0) + this.params.fanoutTTL < now) {
        this.fanout.delete(topic)
        this.#fanoutLastPublished.delete(topic)
        continue
      }
      for (const key of [...fanoutPeers]) {
        const peer = this.peers.get(key)
        if (peer === undefined || !peer.topics.has(topic) || this.#scoreOf(key) < this.thresholds.publishThreshold) fanoutPeers.delete(key)
      }
      if (fanoutPeers.size < D) {
        for (const p of this.#candidates(topic, D - fanoutPeers.size, (p) => !fanoutPeers.has(p.key) && this.#scoreOf(p.key) >= this.thresholds.publishThreshold)) fanoutPeers.add(p.key)
      }
      this.#emitGossip(topic, fanoutPeers)
    }

    for (const [key, topics] of toGraft) {
      const peer = this.peers.get(key)
      if (peer === undefined) continue
      const prunes = toPrune.get(key)
      toPrune.delete(key)
      this.sendRpc(peer, { subscriptions: [], messages: [], control: { ...emptyControl(), graft: topics.map(topic => ({ topic })) } })
      if (prunes !== undefined) void this.#sendPrunes(peer, prunes, this.params.pruneBackoff)
    }
    for (const [key, topics] of toPrune) {
      const peer = this.peers.get(key)
      if (peer !== undefined) void this.#sendPrunes(peer, topics, this.params.pruneBackoff)
    }
    for (const [key, ihave] of this.#pendingGossip) {
      const peer = this.peers.get(key)
      if (peer !== undefined) this.sendRpc(peer, { subscriptions: [], messages: [], control: { ...emptyControl(), ihave } })
    }
    this.#pendingGossip.clear()

    this.#promises.expire(now, (key) => { this.score?.addPenalty(key, 1) })
    this.#peerHave.clear()
    this.#iasked.clear()
    this.#dontWantCount.clear()
    for (const [key, ids] of this.#dontWant) {
      for (const [id, tick] of ids) if (tick + 3 <= this.#heartbeatTicks) ids.delete(id)
      if (ids.size === 0) this.#dontWant.delete(key)
    }
    this.#backoff.expire(now)
    this.mcache.shift()
  }

  /** Queues IHAVE for `topic` to Dlazy (or gossipFactor of eligible) peers outside `exclude`. */
  #emitGossip (topic: string, exclude: Set<string>): void {
    let ids = this.mcache.gossipIds(topic)
    if (ids.length === 0) return
    const eligible = this.#candidates(topic, Infinity, (p) => !exclude.has(p.key) && this.#scoreOf(p.key) >= this.thresholds.gossipThreshold)
    const n = Math.max(this.params.Dlazy, Math.floor(eligible.length * this.params.gossipFactor))
    if (eligible.length > n) eligible.length = n
    if (ids.length > this.params.maxIHaveLength) {
      shuffle(ids)
      ids = ids.slice(0, this.params.maxIHaveLength)
    }
    const messageIds = ids.map(messageIdFromKey)
    for (const peer of eligible) {
      const list = this.#pendingGossip.get(peer.key)
      const entry = { topic, messageIds }
      if (list === undefined) this.#pendingGossip.set(peer.key, [entry])
      else list.push(entry)
    }
  }
}

/** Service factory: `services: { identify: identify(), pubsub: gossipsub() }`. */
export function gossipsub (options: GossipSubOptions = {}): (components: PubSubComponents) => GossipSub {
  return (components) => new GossipSub(components, options)
}
