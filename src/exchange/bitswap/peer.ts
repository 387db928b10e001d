/**
 * One Bitswap peer as this node sees it: the ledger (what it wants from us, what was exchanged,
 * whether it is trusted) and the outbound stream our messages to it travel on.
 *
 * Bitswap answers never come back on the stream that asked: each side sends its messages on a
 * stream it opened itself and reads the other's on the stream the other opened. The outbound
 * stream is opened on first use (preferring 1.2.0, then 1.1.0, 1.0.0), reused for every message
 * and reopened after a failure; its negotiated protocol decides what our messages may carry.
 * Client wants are collected for the current turn and sent as one message.
 */
import type { Connection } from '../../interface/connection.ts'
import type { ConnectionManager } from '../../interface/connection-manager.ts'
import type { Logger } from '../../interface/logger.ts'
import type { PeerId } from '../../interface/peer-id.ts'
import type { Stream } from '../../interface/stream.ts'
import type { CID } from '../cid.ts'
import { runOnNextTurn } from '../../util/timers.ts'
import { BITSWAP_PROTOCOLS, encodeMessageLP, versionOf, emptyMessage, type BitswapMessage, type BitswapVersion, type WantlistEntry } from './message.ts'

/** An entry of the peer's wantlist, as the peer sent it. */
export interface PeerWant {
  cid: CID
  /** The CID bytes as the peer spelled them (echoed back in presences). */
  cidBytes: Uint8Array
  priority: number
  wantType: number
  sendDontHave: boolean
}

export interface LedgerStats {
  bytesSent: number
  bytesReceived: number
  blocksSent: number
  blocksReceived: number
  /** Blocks we did not ask this peer for (duplicates after a cancel, or lies). */
  unwantedBlocks: number
  /** Wantlist entries dropped because the peer's wantlist was full. */
  droppedWants: number
}

export class BitswapPeer {
  readonly id: PeerId
  readonly key: string
  /** The peer's wantlist, by multihash key, in arrival order. */
  readonly wants = new Map<string, PeerWant>()
  readonly stats: LedgerStats = { bytesSent: 0, bytesReceived: 0, blocksSent: 0, blocksReceived: 0, unwantedBlocks: 0, droppedWants: 0 }
  trusted = true
  /** The version of our outbound stream (1.2.0 until one is negotiated). */
  version: BitswapVersion = '1.2.0'
  readonly #connectionManager: ConnectionManager
  readonly #log: Logger
  #stream?: Stream
  #opening?: Promise<Stream>
  #pendingEntries: WantlistEntry[] = []
  #flushScheduled = false
  #closed = false

  readonly #protocols: string[]

  constructor (id: PeerId, connectionManager: ConnectionManager, log: Logger, protocols: string[] = BITSWAP_PROTOCOLS) {
    this.#protocols = protocols
    this.id = id
    this.key = id.toString()
    this.#connectionManager = connectionManager
    this.#log = log
  }

  /** Queues wantlist entries; they leave together at the end of this turn. */
  queueEntries (entries: WantlistEntry[]): void {
    if (this.#closed || entries.length === 0) return
    for (const e of entries) this.#pendingEntries.push(e)
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    runOnNextTurn(() => {
      this.#flushScheduled = false
      const entries = this.#pendingEntries
      this.#pendingEntries = []
      if (entries.length === 0 || this.#closed) return
      const msg = emptyMessage()
      msg.wantlist = { entries, full: false }
      this.send(msg).catch(err => { this.#log('sending wants to %s failed: %s', this.key, (err as Error).message) })
    })
  }

  /**
   * Sends one message; resolves once the stream took it below its high-water mark (so a caller
   * that sends blocks in a loop is paced by the peer). Messages leave in call order.
   */
  async send (msg: BitswapMessage): Promise<void> {
    const stream = this.#stream ?? await this.#open()
    const bytes = encodeMessageLP(msg, this.version)
    try {
      if (!stream.send(bytes)) await stream.drain()
    } catch (err) {
      if (this.#stream === stream) this.#stream = undefined
      throw err
    }
  }

  async #open (): Promise<Stream> {
    this.#opening ??= (async () => {
      try {
        const connection = await this.#connection()
        const stream = await connection.newStream(this.#protocols, { negotiateFully: true })
        this.version = versionOf(stream.protocol)
        this.#stream = stream
        // our outbound stream carries nothing back; when the peer ends it, open a new one next time
        void stream.closed.then(() => { if (this.#stream === stream) this.#stream = undefined })
        if (this.#closed) stream.abort(new Error('bitswap peer closed'))
        return stream
      } finally {
        this.#opening = undefined
      }
    })()
    return await this.#opening
  }

  async #connection (): Promise<Connection> {
    const open = this.#connectionManager.getConnections(this.id).find(c => c.status === 'open')
    return open ?? await this.#connectionManager.openConnection(this.id)
  }

  /** Whether the peer's outbound stream version can carry `cid` (1.0.0 only knows CIDv0). */
  canCarry (cid: CID): boolean {
    return this.version !== '1.0.0' || cid.version === 0
  }

  close (): void {
    this.#closed = true
    this.#pendingEntries = []
    this.#stream?.close().catch(() => {})
    this.#stream = undefined
  }
}

/** A multihash's bytes as a map key (blocks are matched by multihash, as they are stored). */
export function multihashKey (cid: CID): string {
  const bytes = cid.multihash.bytes
  let key = ''
  for (let i = 0; i < bytes.length; i++) key += String.fromCharCode(bytes[i])
  return key
}
