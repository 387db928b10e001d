/**
 * Bitswap (ipfs/specs bitswap-protocol.md): `/ipfs/bitswap/1.2.0`, with 1.1.0, 1.0.0 and the
 * bare `/ipfs/bitswap` for older peers. `services: { bitswap: bitswap() }`, then
 * `node.services.bitswap.get(cid)` fetches a block, `createSession()` groups the wants of one
 * file (pass it to `catFile` from 'ts-libp2p/unixfs'), and every block in the store is served to
 * peers that want it.
 *
 * This file is the service: streams in and out, decoding with limits, and dispatch to the
 * fetching half (client.ts: wants, sessions, provider lookup, trust) and the serving half
 * (server.ts: ledgers, priorities, batching). Limits: messages of at most 4 MiB in (the stream
 * is reset beyond), blocks of 2 MiB, `maxWantlistSize` entries per peer (more are dropped and
 * counted), `maxInboundStreams` per connection. A malformed message resets its stream; a peer that
 * sends a block we did not ask for is no longer trusted.
 */
import type { AbortOptions } from '../../interface/common.ts'
import type { Connection } from '../../interface/connection.ts'
import type { NodeComponents, Startable } from '../../interface/components.ts'
import type { Logger } from '../../interface/logger.ts'
import type { PeerId } from '../../interface/peer-id.ts'
import type { Stream } from '../../interface/stream.ts'
import type { Multiaddr } from '@multiformats/multiaddr'
import { ServiceStoppedError } from '../../util/errors.ts'
import { DatastoreBlockstore, type Blockstore } from '../blockstore.ts'
import { checkSupported, cidFromPrefix, cidOf, decodeCid, verifyBlock, CODEC_DAG_PB, type CID } from '../cid.ts'
import { BitswapClient, Session } from './client.ts'
import { FrameReader } from './frames.ts'
import { BITSWAP_PROTOCOLS, MAX_MESSAGE_SIZE, PRESENCE_HAVE, decodeMessage, type BitswapMessage } from './message.ts'
import { BitswapPeer, multihashKey, type LedgerStats } from './peer.ts'
import { BitswapServer } from './server.ts'

export interface BitswapOptions {
  /** Where blocks are kept and served from (default: a block store over the node's datastore). */
  blockstore?: Blockstore
  /** Entries kept per peer's wantlist (default 4096; more are dropped). */
  maxWantlistSize?: number
  /** Bytes of blocks per message we send (default 1 MiB). */
  maxBatchBytes?: number
  /** Inbound Bitswap streams per connection (default 8). */
  maxInboundStreams?: number
  /** A want-block without block or DONT_HAVE for this long is asked of another peer, in ms (default 5 s). */
  wantTimeout?: number
  /** How long connected peers get to say HAVE before the content routers are asked, in ms (default 1 s). */
  providerLookupDelay?: number
  /** Providers dialed per lookup (default 5). */
  maxProviders?: number
  /**
   * The protocol ids served and proposed, in preference order (default 1.2.0, 1.1.0, 1.0.0 and
   * `/ipfs/bitswap`); fewer to act as an older peer (tests of the fallbacks).
   */
  protocols?: string[]
}

export type BitswapComponents = Pick<NodeComponents, 'registrar' | 'connectionManager' | 'peerStore' | 'datastore' | 'logger' | 'peerId' | 'contentRouting'>

export interface BitswapLedger extends LedgerStats {
  trusted: boolean
  /** Entries of the peer's wantlist we hold. */
  wants: number
}

/** The wants of one file: they share the peers that answered earlier ones. */
export interface BitswapSession {
  /** Verified bytes of the block (see Bitswap.get). */
  get(cid: CID, options?: AbortOptions): Promise<Uint8Array>
  readonly verifiesBlocks: true
}

export class Bitswap implements Startable {
  readonly serviceCapabilities: readonly string[] = ['@libp2p/bitswap']
  readonly serviceDependencies: readonly string[] = ['@libp2p/identify']
  readonly blockstore: Blockstore
  readonly #components: BitswapComponents
  readonly #log: Logger
  readonly #maxWantlistSize: number
  readonly #maxInboundStreams: number
  readonly #peers = new Map<string, BitswapPeer>()
  readonly #inbound = new Set<Stream>()
  readonly #client: BitswapClient
  readonly #server: BitswapServer
  #topologies: string[] = []
  #started = false
  readonly #protocols: string[]

  constructor (components: BitswapComponents, options: BitswapOptions = {}) {
    this.#components = components
    this.#log = components.logger('bitswap')
    this.blockstore = options.blockstore ?? new DatastoreBlockstore(components.datastore)
    this.#maxWantlistSize = options.maxWantlistSize ?? 4096
    this.#maxInboundStreams = options.maxInboundStreams ?? 8
    this.#protocols = options.protocols ?? BITSWAP_PROTOCOLS
    const self = this
    this.#client = new BitswapClient({
      peers: () => [...this.#peers.values()].filter(p => p.trusted),
      connectProvider: async (provider, signal) => await this.#connectProvider(provider, signal),
      get contentRouting () { return self.#components.contentRouting },
      selfKey: components.peerId.toString()
    }, this.#log, {
      wantTimeout: options.wantTimeout ?? 5_000,
      providerLookupDelay: options.providerLookupDelay ?? 1_000,
      maxProviders: options.maxProviders ?? 5
    })
    this.#server = new BitswapServer(this.blockstore, this.#log, { maxBatchBytes: options.maxBatchBytes ?? 1024 * 1024 })
  }

  start (): void {
    this.#started = true
    for (const protocol of this.#protocols) {
      this.#components.registrar.handle(protocol, (stream, connection) => { this.#handle(stream, connection) }, {
        maxInboundStreams: this.#maxInboundStreams,
        maxOutboundStreams: 4
      })
      this.#topologies.push(this.#components.registrar.register(protocol, {
        onConnect: (peerId) => { this.#client.peerCame(this.#peer(peerId)) },
        onDisconnect: (peerId) => { this.#peerGone(peerId) }
      }))
    }
  }

  stop (): void {
    this.#started = false
    for (const protocol of this.#protocols) this.#components.registrar.unhandle(protocol)
    for (const id of this.#topologies) this.#components.registrar.unregister(id)
    this.#topologies = []
    this.#client.stop(new ServiceStoppedError('bitswap stopped'))
    for (const stream of this.#inbound) stream.abort(new ServiceStoppedError('bitswap stopped'))
    this.#inbound.clear()
    for (const peer of this.#peers.values()) peer.close()
    this.#peers.clear()
  }

  /** Blocks from `get` are verified (fetched ones on arrival, stored ones on read). */
  readonly verifiesBlocks = true

  /** The block of `cid`: from the store (verified), or fetched from peers (verified, then stored). */
  async get (cid: CID, options: AbortOptions & { session?: BitswapSession } = {}): Promise<Uint8Array> {
    const session = options.session instanceof SessionHandle ? options.session.session : new Session()
    return await this.#get(cid, session, options)
  }

  async #get (cid: CID, session: Session, options: AbortOptions): Promise<Uint8Array> {
    checkSupported(cid)
    const local = await this.blockstore.get(cid, options)
    if (local !== undefined) {
      // the store is trusted no more than the network: what get returns is always verified
      verifyBlock(cid, local)
      return local
    }
    if (!this.#started) throw new ServiceStoppedError('bitswap is not started')
    return await this.#client.want(cid, session, options)
  }

  /** A group of wants (one file) that ask the peers of earlier answers first. */
  createSession (): BitswapSession {
    return new SessionHandle(new Session(), async (cid, session, options) => await this.#get(cid, session, options))
  }

  /** Stores a block (verified first) and sends it to peers that wait for it. */
  async put (cid: CID, bytes: Uint8Array, options?: AbortOptions): Promise<void> {
    verifyBlock(cid, bytes)
    await this.blockstore.put(cid, bytes, options)
    this.#client.resolveLocal(cid, bytes)
    this.#forward(cid)
  }

  /** Whether the block is in the store. */
  async has (cid: CID, options?: AbortOptions): Promise<boolean> {
    return await this.blockstore.has(cid, options)
  }

  /** What this node waits for. */
  wantlist (): CID[] {
    return this.#client.wantlist()
  }

  /** What a peer waits for from us (its wantlist as we hold it). */
  wantlistOf (peerId: PeerId): CID[] {
    return [...(this.#peers.get(peerId.toString())?.wants.values() ?? [])].map(w => w.cid)
  }

  /** The exchange with a peer so far, or undefined if it never spoke Bitswap with us. */
  ledger (peerId: PeerId): BitswapLedger | undefined {
    const peer = this.#peers.get(peerId.toString()) ?? this.#gone.get(peerId.toString())
    return peer === undefined ? undefined : { ...peer.stats, trusted: peer.trusted, wants: peer.wants.size }
  }

  /** Peers that sent blocks nobody asked for, since start (never asked again). */
  readonly #gone = new Map<string, BitswapPeer>()

  #peer (peerId: PeerId): BitswapPeer {
    const key = peerId.toString()
    let peer = this.#peers.get(key)
    if (peer === undefined) {
      peer = new BitswapPeer(peerId, this.#components.connectionManager, this.#log, this.#protocols)
      // an untrusted peer stays untrusted when it reconnects
      if (this.#gone.get(key)?.trusted === false) peer.trusted = false
      this.#peers.set(key, peer)
    }
    return peer
  }

  #peerGone (peerId: PeerId): void {
    const key = peerId.toString()
    if (this.#components.connectionManager.getConnections(peerId).some(c => c.status === 'open')) return
    const peer = this.#peers.get(key)
    if (peer === undefined) return
    this.#peers.delete(key)
    this.#gone.set(key, peer)
    // (bounded: a ledger of the last 1024 peers gone)
    if (this.#gone.size > 1024) this.#gone.delete(this.#gone.keys().next().value as string)
    peer.close()
    this.#server.drop(peer)
    this.#client.peerGone(peer)
  }

  async #connectProvider (provider: { id: PeerId, multiaddrs: Multiaddr[] }, signal: AbortSignal): Promise<BitswapPeer | undefined> {
    if (provider.multiaddrs.length > 0) await this.#components.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs })
    await this.#components.connectionManager.openConnection(provider.id, { signal })
    const peer = this.#peer(provider.id)
    return peer
  }

  /** Reads the peer's messages off one inbound stream until it ends. */
  #handle (stream: Stream, connection: Connection): void {
    this.#inbound.add(stream)
    const peer = this.#peer(connection.remotePeer)
    const reader = new FrameReader(stream, MAX_MESSAGE_SIZE)
    void (async () => {
      try {
        for (;;) {
          const frame = await reader.next()
          if (frame === null) break
          await this.#onMessage(peer, decodeMessage(frame))
        }
        // nothing goes back on this stream; ending our side lets the peer's close complete
        await stream.closeWrite()
      } catch (err) {
        this.#log('inbound stream from %s: %s', peer.key, (err as Error).message)
        stream.abort(err as Error)
      } finally {
        this.#inbound.delete(stream)
      }
    })()
  }

  async #onMessage (peer: BitswapPeer, msg: BitswapMessage): Promise<void> {
    if (!peer.trusted) return
    if (msg.wantlist !== undefined) this.#onWantlist(peer, msg.wantlist)
    for (const block of msg.blocks) {
      let cid: CID
      try {
        // the CID from the block's own bytes: what it claims to be cannot differ from what it is
        cid = block.prefix === undefined ? cidOf(block.data, CODEC_DAG_PB, 0) : cidFromPrefix(block.prefix, block.data)
      } catch (err) {
        this.#log('block from %s: %s', peer.key, (err as Error).message)
        peer.stats.unwantedBlocks++
        continue
      }
      if (!this.#client.onBlock(peer, cid, block.data)) {
        if (!peer.trusted) { this.#client.peerGone(peer); return }
        continue
      }
      await this.blockstore.put(cid, block.data)
      this.#forward(cid)
    }
    for (const presence of msg.presences) {
      const cid = decodeCid(presence.cid)
      if (presence.type === PRESENCE_HAVE) this.#client.onHave(peer, cid)
      else this.#client.onDontHave(peer, cid)
    }
  }

  #onWantlist (peer: BitswapPeer, wantlist: NonNullable<BitswapMessage['wantlist']>): void {
    if (wantlist.full) peer.wants.clear()
    const changed: string[] = []
    for (const entry of wantlist.entries) {
      const cid = decodeCid(entry.cid)
      const key = multihashKey(cid)
      if (entry.cancel) { peer.wants.delete(key); continue }
      if (!peer.wants.has(key) && peer.wants.size >= this.#maxWantlistSize) { peer.stats.droppedWants++; continue }
      peer.wants.set(key, { cid, cidBytes: cid.bytes, priority: entry.priority, wantType: entry.wantType, sendDontHave: entry.sendDontHave })
      changed.push(key)
    }
    if (changed.length > 0) this.#server.schedule(peer, changed)
  }

  /** Peers that want a block we just got: it goes out to them. */
  #forward (cid: CID): void {
    const key = multihashKey(cid)
    for (const peer of this.#peers.values()) {
      if (peer.wants.has(key)) this.#server.schedule(peer, [key])
    }
  }
}

class SessionHandle implements BitswapSession {
  readonly session: Session
  readonly verifiesBlocks = true
  readonly #get: (cid: CID, session: Session, options: AbortOptions) => Promise<Uint8Array>

  constructor (session: Session, get: (cid: CID, session: Session, options: AbortOptions) => Promise<Uint8Array>) {
    this.session = session
    this.#get = get
  }

  async get (cid: CID, options: AbortOptions = {}): Promise<Uint8Array> {
    return await this.#get(cid, this.session, options)
  }
}

/** `services: { bitswap: bitswap() }`. */
export function bitswap (options: BitswapOptions = {}): (components: BitswapComponents) => Bitswap {
  return (components) => new Bitswap(components, options)
}
