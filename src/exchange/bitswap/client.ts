/**
 * The fetching half of Bitswap: wants, sessions and where blocks are asked for.
 *
 * A want is one block some caller waits for. It belongs to the session of its first caller; a
 * session remembers the peers that had its earlier blocks (they answered HAVE or sent a block)
 * and asks them first: each want goes as want-block to the session peer with the fewest
 * outstanding block wants (so a file spreads over all its providers), with want-have to two
 * more session peers as a fallback and to two connected peers outside the session (a HAVE adds
 * them to it). A session without peers broadcasts want-have (with send-dont-have) to
 * every connected Bitswap peer (want-block to 1.0.0/1.1.0 peers, which know no have), and when
 * nobody has the block within `providerLookupDelay` (or nobody is connected), asks the content
 * routers (the DHT) for providers, dials them and asks them directly. A want-block that brings
 * neither block nor DONT_HAVE within `wantTimeout` is asked of the next peer.
 *
 * Blocks are verified by construction: a block's CID is computed from its bytes (and the prefix
 * the peer sent), and only a block whose CID is wanted is accepted, stored and handed out. A
 * block nobody wanted, from a peer we asked for blocks, that is not a late duplicate of one we
 * just received, is a lie: the peer stops being trusted (never asked again, its messages
 * ignored).
 */
import type { AbortOptions } from '../../interface/common.ts'
import type { ContentRouting } from '../../interface/routing.ts'
import type { Logger } from '../../interface/logger.ts'
import type { CID } from '../cid.ts'
import type { BitswapPeer } from './peer.ts'
import { unrefTimeout, type TimerHandle } from '../../util/timers.ts'
import { AbortError } from '../../util/errors.ts'
import { multihashKey } from './peer.ts'
import { WANT_BLOCK, WANT_HAVE, type WantlistEntry } from './message.ts'

export interface ClientOptions {
  wantTimeout: number
  providerLookupDelay: number
  maxProviders: number
}

export interface ClientHost {
  /** Connected Bitswap peers. */
  peers(): Iterable<BitswapPeer>
  /** Dials a provider found by the content routers and returns it as a Bitswap peer. */
  connectProvider(provider: { id: import('../../interface/peer-id.ts').PeerId, multiaddrs: import('@multiformats/multiaddr').Multiaddr[] }, signal: AbortSignal): Promise<BitswapPeer | undefined>
  readonly contentRouting?: ContentRouting
  readonly selfKey: string
}

/** A group of related wants (one file): they share the peers that answered earlier ones. */
export class Session {
  /** Peers that had earlier blocks of this session, by key. */
  readonly peers = new Map<string, BitswapPeer>()
  /** The last provider lookup, so one lookup serves many wants. */
  lastLookup = 0
  lookup?: Promise<void>
}

interface Waiter { resolve(bytes: Uint8Array): void, reject(err: Error): void }

class Want {
  readonly cid: CID
  readonly key: string
  readonly session: Session
  readonly waiters = new Set<Waiter>()
  /** Peers sent a want-block / want-have for it, by key. */
  readonly askedBlock = new Set<string>()
  readonly askedHave = new Set<string>()
  /** Peers that said DONT_HAVE or timed out. */
  readonly exhausted = new Set<string>()
  blockTarget?: string
  /** Earlier wants get higher priorities, so a provider sends a file's blocks in file order. */
  priority = 1
  timer?: TimerHandle
  lookupTimer?: TimerHandle

  constructor (cid: CID, key: string, session: Session) {
    this.cid = cid
    this.key = key
    this.session = session
  }
}

/** Keys of blocks received lately, so a late duplicate is not taken for a lie. */
const RECENT_KEYS = 4096

export class BitswapClient {
  readonly #host: ClientHost
  readonly #log: Logger
  readonly #options: ClientOptions
  readonly #wants = new Map<string, Want>()
  readonly #recent = new Set<string>()
  /** Outstanding want-blocks per peer key, to spread wants over a session's peers. */
  readonly #load = new Map<string, number>()
  #stopped = false
  /** The next want's priority: counts down from the largest int32, as wants are made. */
  #nextPriority = 0x7fffffff

  constructor (host: ClientHost, log: Logger, options: ClientOptions) {
    this.#host = host
    this.#log = log
    this.#options = options
  }

  get wantCount (): number { return this.#wants.size }

  /** The CIDs this node currently wants. */
  wantlist (): CID[] {
    return [...this.#wants.values()].map(w => w.cid)
  }

  /** Waits for the block of `cid` from peers. */
  async want (cid: CID, session: Session, options: AbortOptions = {}): Promise<Uint8Array> {
    options.signal?.throwIfAborted()
    const key = multihashKey(cid)
    let want = this.#wants.get(key)
    const fresh = want === undefined
    if (want === undefined) {
      want = new Want(cid, key, session)
      want.priority = this.#nextPriority
      this.#nextPriority = this.#nextPriority > 1 ? this.#nextPriority - 1 : 0x7fffffff
      this.#wants.set(key, want)
    }
    const w = want
    return await new Promise<Uint8Array>((resolve, reject) => {
      const onAbort = (): void => {
        w.waiters.delete(waiter)
        if (w.waiters.size === 0) this.#cancel(w)
        reject(options.signal?.reason ?? new AbortError())
      }
      const waiter: Waiter = {
        resolve: bytes => { options.signal?.removeEventListener('abort', onAbort); resolve(bytes) },
        reject: err => { options.signal?.removeEventListener('abort', onAbort); reject(err) }
      }
      w.waiters.add(waiter)
      options.signal?.addEventListener('abort', onAbort, { once: true })
      if (fresh) this.#dispatch(w)
    })
  }

  /** Picks where to ask for `want` next, and asks. */
  #dispatch (want: Want): void {
    if (this.#stopped || !this.#wants.has(want.key)) return
    clearTimeout(want.timer)
    const candidates = [...want.session.peers.values()].filter(p => p.trusted && !want.exhausted.has(p.key) && this.#isConnected(p))
    if (candidates.length > 0) {
      candidates.sort((a, b) => (this.#load.get(a.key) ?? 0) - (this.#load.get(b.key) ?? 0))
      this.#askBlock(want, candidates[0])
      for (const peer of candidates.slice(1, 3)) this.#askHave(want, peer)
      // and a want-have to two connected peers outside the session: a HAVE adds them to it, so
      // a session that started with one answering peer still spreads over every provider
      let probes = 0
      for (const peer of this.#host.peers()) {
        if (probes >= 2) break
        if (want.session.peers.has(peer.key) || want.exhausted.has(peer.key) || !peer.canCarry(want.cid)) continue
        this.#askHave(want, peer)
        probes++
      }
      return
    }
    let asked = 0
    for (const peer of this.#host.peers()) {
      if (!peer.trusted || want.exhausted.has(peer.key) || !peer.canCarry(want.cid)) continue
      if (peer.version === '1.2.0') this.#askHave(want, peer)
      else this.#askBlock(want, peer)
      asked++
    }
    const delay = asked === 0 ? 0 : this.#options.providerLookupDelay
    clearTimeout(want.lookupTimer)
    want.lookupTimer = unrefTimeout(() => { this.#findProviders(want) }, delay)
  }

  #isConnected (peer: BitswapPeer): boolean {
    for (const p of this.#host.peers()) if (p === peer) return true
    return false
  }

  #askBlock (want: Want, peer: BitswapPeer): void {
    if (want.blockTarget !== undefined) this.#unload(want.blockTarget)
    want.blockTarget = peer.key
    want.askedBlock.add(peer.key)
    this.#load.set(peer.key, (this.#load.get(peer.key) ?? 0) + 1)
    peer.queueEntries([this.#entry(want, WANT_BLOCK, false)])
    clearTimeout(want.timer)
    want.timer = unrefTimeout(() => {
      // no block and no DONT_HAVE in time: try someone else
      this.#log('want %s timed out at %s', want.cid, peer.key)
      want.exhausted.add(peer.key)
      if (want.blockTarget === peer.key) { this.#unload(peer.key); want.blockTarget = undefined }
      this.#dispatch(want)
    }, this.#options.wantTimeout)
  }

  #askHave (want: Want, peer: BitswapPeer): void {
    if (want.askedHave.has(peer.key) || want.askedBlock.has(peer.key)) return
    want.askedHave.add(peer.key)
    peer.queueEntries([this.#entry(want, WANT_HAVE, false)])
  }

  #entry (want: Want, wantType: number, cancel: boolean): WantlistEntry {
    return { cid: want.cid.bytes, priority: want.priority, cancel, wantType, sendDontHave: !cancel }
  }

  #unload (peerKey: string): void {
    const n = (this.#load.get(peerKey) ?? 1) - 1
    if (n <= 0) this.#load.delete(peerKey)
    else this.#load.set(peerKey, n)
  }

  /** Asks the content routers for providers of the want's block (once per session at a time). */
  #findProviders (want: Want): void {
    const routing = this.#host.contentRouting
    const session = want.session
    if (routing === undefined || this.#stopped || !this.#wants.has(want.key) || session.lookup !== undefined) return
    const controller = new AbortController()
    const timer = unrefTimeout(() => { controller.abort() }, 30_000)
    session.lastLookup = Date.now()
    session.lookup = (async () => {
      let found = 0
      for await (const provider of routing.findProviders(want.cid, { signal: controller.signal, count: this.#options.maxProviders })) {
        if (provider.id.toString() === this.#host.selfKey) continue
        const peer = await this.#host.connectProvider(provider, controller.signal).catch(err => {
          this.#log('provider %s of %s unreachable: %s', provider.id, want.cid, (err as Error).message)
          return undefined
        })
        if (peer === undefined || !peer.trusted) continue
        session.peers.set(peer.key, peer)
        // everything this session still waits for goes to the provider found
        for (const w of this.#wants.values()) if (w.session === session && w.blockTarget === undefined) this.#dispatch(w)
        if (++found >= this.#options.maxProviders || !this.#wants.has(want.key)) break
      }
    })().catch(err => {
      this.#log('provider lookup for %s failed: %s', want.cid, (err as Error).message)
    }).finally(() => {
      clearTimeout(timer)
      session.lookup = undefined
    })
  }

  /** A HAVE from `peer`: it joins the session; ask it for the block if nobody is asked yet. */
  onHave (peer: BitswapPeer, cid: CID): void {
    const want = this.#wants.get(multihashKey(cid))
    if (want === undefined) return
    want.session.peers.set(peer.key, peer)
    if (want.blockTarget === undefined) this.#askBlock(want, peer)
  }

  /** A DONT_HAVE from `peer`: if it was asked for the block, ask someone else. */
  onDontHave (peer: BitswapPeer, cid: CID): void {
    const want = this.#wants.get(multihashKey(cid))
    if (want === undefined) return
    want.exhausted.add(peer.key)
    if (want.blockTarget === peer.key) {
      this.#unload(peer.key)
      want.blockTarget = undefined
      this.#dispatch(want)
    }
  }

  /**
   * A block from `peer` whose CID was computed from its bytes. Returns whether it was wanted
   * (the caller stores it and forwards it to peers that want it); marks the peer untrusted when
   * it sent a block nobody asked for.
   */
  onBlock (peer: BitswapPeer, cid: CID, bytes: Uint8Array): boolean {
    const key = multihashKey(cid)
    const want = this.#wants.get(key)
    if (want === undefined) {
      peer.stats.unwantedBlocks++
      if (!this.#recent.has(key)) {
        this.#log('%s sent block %s that nobody asked for: no longer trusted', peer.key, cid)
        peer.trusted = false
      }
      return false
    }
    peer.stats.blocksReceived++
    peer.stats.bytesReceived += bytes.length
    want.session.peers.set(peer.key, peer)
    this.#finish(want)
    for (const waiter of want.waiters) waiter.resolve(bytes)
    return true
  }

  /** The block arrived by other means (a local put): waiters get it, peers get cancels. */
  resolveLocal (cid: CID, bytes: Uint8Array): void {
    const want = this.#wants.get(multihashKey(cid))
    if (want === undefined) return
    this.#finish(want)
    for (const waiter of want.waiters) waiter.resolve(bytes)
  }

  #finish (want: Want): void {
    this.#wants.delete(want.key)
    this.#recent.add(want.key)
    if (this.#recent.size > RECENT_KEYS) this.#recent.delete(this.#recent.values().next().value as string)
    this.#sendCancels(want)
  }

  #cancel (want: Want): void {
    if (this.#wants.get(want.key) !== want) return
    this.#wants.delete(want.key)
    this.#recent.add(want.key)
    this.#sendCancels(want)
  }

  #sendCancels (want: Want): void {
    clearTimeout(want.timer)
    clearTimeout(want.lookupTimer)
    if (want.blockTarget !== undefined) this.#unload(want.blockTarget)
    want.blockTarget = undefined
    for (const peer of this.#host.peers()) {
      if (want.askedBlock.has(peer.key) || want.askedHave.has(peer.key)) peer.queueEntries([this.#entry(want, WANT_BLOCK, true)])
    }
  }

  /** A peer went away: wants that waited on it are asked elsewhere. */
  peerGone (peer: BitswapPeer): void {
    this.#load.delete(peer.key)
    for (const want of this.#wants.values()) {
      want.session.peers.delete(peer.key)
      if (want.blockTarget === peer.key) {
        want.blockTarget = undefined
        this.#dispatch(want)
      }
    }
  }

  /** A peer came: wants without a peer to ask are offered to it. */
  peerCame (peer: BitswapPeer): void {
    for (const want of this.#wants.values()) {
      if (want.blockTarget !== undefined || !peer.canCarry(want.cid)) continue
      if (peer.version === '1.2.0') this.#askHave(want, peer)
      else this.#askBlock(want, peer)
    }
  }

  stop (err: Error): void {
    this.#stopped = true
    for (const want of this.#wants.values()) {
      clearTimeout(want.timer)
      clearTimeout(want.lookupTimer)
      for (const waiter of want.waiters) waiter.reject(err)
    }
    this.#wants.clear()
  }
}
