/**
 * The identify service: `/ipfs/id/1.0.0` (ask a peer who it is) and `/ipfs/id/push/1.0.0`
 * (tell connected peers when we changed), per specs identify/README.md.
 *
 * On every new connection the node identifies the remote: the public key must hash to the
 * connection's peer id, a valid signed peer record makes its addresses certified (otherwise
 * the plain listen addresses are stored), protocols / agent / protocol version go into the
 * peer store, the observed address goes to the address manager, and `peer:identify` fires.
 * As a responder it sends our own view, the signed record split off into a second frame
 * (as go does) when everything would not fit in one 8 KiB message.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from '../../interface/common.ts'
import type { Connection } from '../../interface/connection.ts'
import type { IdentifyResult, Libp2pEvents } from '../../interface/events.ts'
import type { AddressManager } from '../../interface/address-manager.ts'
import type { NodeComponents, Startable } from '../../interface/components.ts'
import type { PublicKey } from '../../interface/keys.ts'
import type { PeerData } from '../../interface/peer-store.ts'
import type { Stream } from '../../interface/stream.ts'
import type { Logger } from '../../interface/logger.ts'
import { publicKeyFromProtobuf } from '../../crypto/index.ts'
import { peerIdFromPublicKey } from '../../peer/peer-id.ts'
import { Deadline } from '../../util/deadline.ts'
import { equalBytes, utf8Encode } from '../../util/bytes.ts'
import { InvalidMessageError, LimitExceededError, ServiceStoppedError, UnexpectedPeerError } from '../../util/errors.ts'
import { TokenBucket } from '../../util/token-bucket.ts'
import { encodeLP } from '../../util/stream-reader.ts'
import { DEFAULT_IDENTIFY_LIMITS, encodeIdentify, encodeIdentifyFrames, readIdentify, type IdentifyLimits, type IdentifyMessage } from './message.ts'
import { SelfRecordCache, type SignPeerRecord } from './self-record.ts'
import { withoutPeerId } from '../../util/multiaddr.ts'
import { unrefTimeout } from '../../util/timers.ts'

export const IDENTIFY_PROTOCOL_VERSION = 'ipfs/0.1.0'

/**
 * Identify requests and pushes one connection may send us: a burst, then so many per second.
 * Each push is a peer-store write and each request builds our message; an honest peer asks
 * once per connection and pushes at most once a second (pushes are debounced), so a flood of
 * either is cut to this rate and the rest are reset unread.
 */
export const DEFAULT_INBOUND_IDENTIFY_BUDGET = { burst: 16, perSecond: 2 }

export interface IdentifyOptions {
  /** Protocol ids are `/<prefix>/id/1.0.0` and `/<prefix>/id/push/1.0.0` (default 'ipfs'). */
  protocolPrefix?: string
  /** Sent as agentVersion (default: the node's user agent, e.g. 'ts-libp2p/0.1.0 node/24'). */
  agentVersion?: string
  /** Budget for one identify or push exchange, in ms (default 10 s). */
  timeout?: number
  /** Largest identify frame we read (default 8 KiB, as go and js). */
  maxMessageSize?: number
  /** Identify every new connection (default true). */
  runOnConnectionOpen?: boolean
  /** Push to connected peers when our addresses or protocols change (default true). */
  runOnSelfUpdate?: boolean
  /** Concurrent pushes (default 32, as go). */
  pushConcurrency?: number
  /** Coalesces bursts of self updates into one push, in ms (default 1000). */
  pushDebounce?: number
  /** TTL for listen addresses a peer reported without a signed record, in ms (default 24 h). */
  addressTtl?: number
  /** Replaces how our signed peer record is made (tests; defaults to src/peer/peer-record.ts). */
  signPeerRecord?: SignPeerRecord
  /** Identify requests + pushes accepted per connection (default DEFAULT_INBOUND_IDENTIFY_BUDGET). */
  inboundBudget?: { burst: number, perSecond: number }
}

export type IdentifyComponents = Pick<NodeComponents, 'peerId' | 'privateKey' | 'nodeInfo' | 'events' | 'registrar' | 'connectionManager' | 'peerStore' | 'logger'> & {
  /** Identify announces our addresses and reports what peers observed. */
  addressManager: Pick<AddressManager, 'getAddresses' | 'addObservedAddr'>
}

export class IdentifyService implements Startable {
  readonly serviceCapabilities: readonly string[] = ['@libp2p/identify', '@libp2p/identify-push']
  readonly protocol: string
  readonly pushProtocol: string
  readonly #components: IdentifyComponents
  readonly #log: Logger
  readonly #timeout: number
  readonly #limits: IdentifyLimits
  readonly #options: IdentifyOptions
  readonly #selfRecord: SelfRecordCache
  #shutdown = new AbortController()
  #pushTimer: ReturnType<typeof setTimeout> | undefined
  #pushing: Promise<void> | undefined
  #started = false
  /** Each connection's budget of inbound requests and pushes, made at its first one. */
  readonly #budgets = new WeakMap<Connection, TokenBucket>()

  constructor (components: IdentifyComponents, options: IdentifyOptions = {}) {
    this.#components = components
    this.#options = options
    this.#log = components.logger('identify')
    const prefix = options.protocolPrefix ?? 'ipfs'
    this.protocol = `/${prefix}/id/1.0.0`
    this.pushProtocol = `/${prefix}/id/push/1.0.0`
    this.#timeout = options.timeout ?? 10_000
    this.#limits = { ...DEFAULT_IDENTIFY_LIMITS, maxMessageSize: options.maxMessageSize ?? DEFAULT_IDENTIFY_LIMITS.maxMessageSize }
    this.#selfRecord = new SelfRecordCache(components.privateKey, options.signPeerRecord)
  }

  start (): void {
    if (this.#started) return
    this.#started = true
    this.#shutdown = new AbortController()
    const handlerOptions = { maxInboundStreams: 2, maxOutboundStreams: 2, runOnLimitedConnection: true }
    this.#components.registrar.handle(this.protocol, (stream, connection) => this.#withinBudget(stream, connection) ? this.#respond(stream, connection) : undefined, handlerOptions)
    this.#components.registrar.handle(this.pushProtocol, (stream, connection) => this.#withinBudget(stream, connection) ? this.#receivePush(stream, connection) : undefined, handlerOptions)
    if (this.#options.runOnConnectionOpen !== false) this.#components.events.addEventListener('connection:open', this.#onConnectionOpen)
    if (this.#options.runOnSelfUpdate !== false) this.#components.events.addEventListener('self:peer:update', this.#onSelfUpdate)
  }

  async stop (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    this.#components.registrar.unhandle(this.protocol)
    this.#components.registrar.unhandle(this.pushProtocol)
    this.#components.events.removeEventListener('connection:open', this.#onConnectionOpen)
    this.#components.events.removeEventListener('self:peer:update', this.#onSelfUpdate)
    if (this.#pushTimer !== undefined) clearTimeout(this.#pushTimer)
    this.#pushTimer = undefined
    this.#shutdown.abort(new ServiceStoppedError('identify stopped'))
    await this.#pushing?.catch(() => {})
  }

  readonly #onConnectionOpen = (evt: CustomEvent<Libp2pEvents['connection:open']>): void => {
    const connection = evt.detail
    this.identify(connection).catch((err: Error) => {
      this.#log('identify of %s failed: %s', connection.remotePeer, err.message)
    })
  }

  readonly #onSelfUpdate = (): void => {
    if (this.#pushTimer !== undefined) return
    this.#pushTimer = unrefTimeout(() => {
      this.#pushTimer = undefined
      this.push().catch((err: Error) => { this.#log('identify push failed: %s', err.message) })
    }, this.#options.pushDebounce ?? 1000)
  }

  /** Asks the remote of `connection` who it is, records the answer, and returns it. */
  async identify (connection: Connection, options: AbortOptions = {}): Promise<IdentifyResult> {
    const deadline = new Deadline(this.#timeout, [options.signal, this.#shutdown.signal], `identify timed out after ${this.#timeout} ms`)
    const signal = deadline.signal
    try {
      const stream = await connection.newStream(this.protocol, { signal, runOnLimitedConnection: true })
      let message: IdentifyMessage
      try {
        message = await readIdentify(stream, { signal, limits: this.#limits })
        await stream.close({ signal })
      } catch (err) {
        stream.abort(err as Error)
        throw err
      }
      return await this.#consume(connection, message, false, signal)
    } finally {
      deadline.clear()
    }
  }

  /** A time limit under the service's shutdown signal that leaves nothing behind once cleared. */
  #deadline (message: string): Deadline {
    return new Deadline(this.#timeout, this.#shutdown.signal, message)
  }

  /** Sends our current identify message to every connected peer that supports push. */
  async push (): Promise<void> {
    if (this.#pushing !== undefined) {
      // one push at a time; a change during a push gets its own push afterwards
      await this.#pushing.catch(() => {})
    }
    const run = this.#pushAll()
    this.#pushing = run
    try {
      await run
    } finally {
      if (this.#pushing === run) this.#pushing = undefined
    }
  }

  async #pushAll (): Promise<void> {
    const connections = this.#components.connectionManager.getConnections().filter(c => c.status === 'open')
    const targets: Connection[] = []
    for (const connection of connections) {
      try {
        const peer = await this.#components.peerStore.get(connection.remotePeer)
        if (peer.protocols.includes(this.pushProtocol)) targets.push(connection)
      } catch {
        // unknown peer: it was never identified, so we do not know it supports push
      }
    }
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < targets.length && !this.#shutdown.signal.aborted) {
        const connection = targets[next++]
        await this.#pushTo(connection).catch((err: Error) => {
          this.#log('push to %s failed: %s', connection.remotePeer, err.message)
        })
      }
    }
    const workers = Math.min(this.#options.pushConcurrency ?? 32, targets.length)
    await Promise.all(Array.from({ length: workers }, worker))
  }

  async #pushTo (connection: Connection): Promise<void> {
    const deadline = this.#deadline(`identify push timed out after ${this.#timeout} ms`)
    const signal = deadline.signal
    try {
      const stream = await connection.newStream(this.pushProtocol, { signal, runOnLimitedConnection: true })
      try {
        await this.#sendMessage(stream, connection, signal)
      } catch (err) {
        stream.abort(err as Error)
        throw err
      }
    } finally {
      deadline.clear()
    }
  }

  /** Takes one from the connection's budget; over it, the stream is reset unread. */
  #withinBudget (stream: Stream, connection: Connection): boolean {
    let budget = this.#budgets.get(connection)
    if (budget === undefined) {
      const { burst, perSecond } = this.#options.inboundBudget ?? DEFAULT_INBOUND_IDENTIFY_BUDGET
      budget = new TokenBucket(burst, perSecond)
      this.#budgets.set(connection, budget)
    }
    if (budget.take()) return true
    this.#log('resetting %s stream from %s: over its identify budget', stream.protocol, connection.remotePeer)
    stream.abort(new LimitExceededError(`identify: more than ${budget.burst} requests and pushes at a rate above ${budget.perSecond}/s on one connection`))
    return false
  }

  async #respond (stream: Stream, connection: Connection): Promise<void> {
    const deadline = this.#deadline(`identify response timed out after ${this.#timeout} ms`)
    try {
      await this.#sendMessage(stream, connection, deadline.signal)
    } catch (err) {
      this.#log('answering identify from %s failed: %s', connection.remotePeer, (err as Error).message)
      stream.abort(err as Error)
    } finally {
      deadline.clear()
    }
  }

  async #receivePush (stream: Stream, connection: Connection): Promise<void> {
    const deadline = this.#deadline(`identify push timed out after ${this.#timeout} ms`)
    const signal = deadline.signal
    try {
      const message = await readIdentify(stream, { signal, limits: this.#limits })
      await stream.close({ signal })
      await this.#consume(connection, message, true, signal)
    } catch (err) {
      this.#log('identify push from %s rejected: %s', connection.remotePeer, (err as Error).message)
      stream.abort(err as Error)
    } finally {
      deadline.clear()
    }
  }

  async #sendMessage (stream: Stream, connection: Connection, signal: AbortSignal): Promise<void> {
    const message = await this.buildMessage(connection)
    for (const frame of encodeIdentifyFrames(message, this.#limits.maxMessageSize)) {
      if (!stream.send(encodeLP(frame))) await stream.drain({ signal })
    }
    await stream.close({ signal })
  }

  /** Our identify message as seen by the remote of `connection`. */
  async buildMessage (connection?: Connection): Promise<IdentifyMessage> {
    const seen = new Set<string>()
    const listenAddrs: Multiaddr[] = []
    for (const addr of this.#components.addressManager.getAddresses()) {
      const bare = withoutPeerId(addr)
      const key = bare.toString()
      if (seen.has(key)) continue
      seen.add(key)
      listenAddrs.push(bare)
    }
    const message: IdentifyMessage = {
      protocolVersion: IDENTIFY_PROTOCOL_VERSION,
      agentVersion: this.#options.agentVersion ?? this.#components.nodeInfo.userAgent,
      publicKey: this.#components.privateKey.publicKey.toProtobuf(),
      listenAddrs: listenAddrs.map(a => a.bytes),
      observedAddr: connection !== undefined ? withoutPeerId(connection.remoteAddr).bytes : undefined,
      protocols: this.#components.registrar.getProtocols(),
      // a record with no addresses only tells peers to forget how they reached us (js-libp2p
      // replaces its address book with it, so a node behind a relay became undialable)
      signedPeerRecord: listenAddrs.length > 0 ? await this.#selfRecord.get(listenAddrs) : undefined
    }
    // Without the record (split off into its own frame) the rest must fit in one frame;
    // drop trailing addresses rather than send something every peer rejects.
    while (message.listenAddrs.length > 0 && encodeIdentify({ ...message, signedPeerRecord: undefined }).length > this.#limits.maxMessageSize) {
      message.listenAddrs.pop()
    }
    return message
  }

  async #consume (connection: Connection, message: IdentifyMessage, isPush: boolean, signal: AbortSignal): Promise<IdentifyResult> {
    const remotePeer = connection.remotePeer
    let publicKey: PublicKey | undefined
    const known = remotePeer.publicKey
    if (message.publicKey !== undefined && known !== undefined && equalBytes(known.toProtobuf(), message.publicKey)) {
      // the key the connection was authenticated with: nothing to parse or check
      publicKey = known
    } else if (message.publicKey !== undefined) {
      try {
        publicKey = publicKeyFromProtobuf(message.publicKey)
      } catch (err) {
        throw new InvalidMessageError(`identify public key is invalid: ${(err as Error).message}`, { cause: err })
      }
      if (!peerIdFromPublicKey(publicKey).equals(remotePeer)) {
        throw new UnexpectedPeerError(`identify public key does not belong to ${remotePeer.toString()}`)
      }
    }
    const listenAddrs = parseAddrs(message.listenAddrs)
    const protocols = [...new Set(message.protocols)]

    let signedPeerRecord: Uint8Array | undefined
    if (message.signedPeerRecord !== undefined) {
      try {
        await this.#components.peerStore.consumePeerRecord(message.signedPeerRecord, remotePeer, { signal })
        signedPeerRecord = message.signedPeerRecord
      } catch (err) {
        // go falls back to the unsigned listen addresses when the record is bad; so do we
        this.#log('ignoring the signed peer record of %s: %s', remotePeer, (err as Error).message)
      }
    }

    // For a push, an empty list means "unchanged" (the spec: absent fields are ignored).
    const replace: PeerData = {}
    if (!isPush || protocols.length > 0) replace.protocols = protocols
    if (publicKey !== undefined) replace.publicKey = publicKey
    if (replace.protocols !== undefined || replace.publicKey !== undefined) await this.#components.peerStore.patch(remotePeer, replace, { signal })

    const add: PeerData = {}
    const metadata = new Map<string, Uint8Array>()
    if (message.agentVersion !== undefined) metadata.set('AgentVersion', utf8Encode(message.agentVersion))
    if (message.protocolVersion !== undefined) metadata.set('ProtocolVersion', utf8Encode(message.protocolVersion))
    if (metadata.size > 0) add.metadata = metadata
    // A valid signed record carries the authoritative addresses (the spec says to ignore
    // the duplicated listenAddrs then); the peer store took them from consumePeerRecord.
    if (signedPeerRecord === undefined && listenAddrs.length > 0) {
      add.multiaddrs = listenAddrs
      add.addressTtl = this.#options.addressTtl ?? 24 * 60 * 60 * 1000
    }
    if (add.metadata !== undefined || add.multiaddrs !== undefined) await this.#components.peerStore.merge(remotePeer, add, { signal })

    const observedAddr = message.observedAddr !== undefined ? parseAddr(message.observedAddr) : undefined
    if (observedAddr !== undefined && !isPush && connection.limits === undefined) {
      this.#components.addressManager.addObservedAddr(observedAddr, connection)
    }

    const result: IdentifyResult = {
      peerId: remotePeer,
      publicKey,
      listenAddrs,
      protocols,
      observedAddr,
      agentVersion: message.agentVersion,
      protocolVersion: message.protocolVersion,
      signedPeerRecord,
      connection
    }
    this.#log('identified %s (%s, %d protocols, %d addresses)', remotePeer, message.agentVersion ?? 'no agent', protocols.length, listenAddrs.length)
    this.#components.events.safeDispatch('peer:identify', result)
    return result
  }
}

/** A multiaddr from the wire, or undefined when it is empty or does not parse. */
function parseAddr (bytes: Uint8Array): Multiaddr | undefined {
  if (bytes.length === 0) return undefined
  try {
    const addr = multiaddr(bytes)
    if (addr.getComponents().length === 0) return undefined
    return withoutPeerId(addr)
  } catch {
    return undefined
  }
}

/** Addresses from the wire; ones we cannot parse (unknown protocols) are skipped, not fatal. */
function parseAddrs (list: Uint8Array[]): Multiaddr[] {
  const out: Multiaddr[] = []
  const seen = new Set<string>()
  for (const bytes of list) {
    const addr = parseAddr(bytes)
    if (addr === undefined) continue
    const key = addr.toString()
    if (seen.has(key)) continue
    seen.add(key)
    out.push(addr)
  }
  return out
}

/** Service factory: `services: { identify: identify() }`. */
export function identify (options: IdentifyOptions = {}): (components: IdentifyComponents) => IdentifyService {
  return (components) => new IdentifyService(components, options)
}
