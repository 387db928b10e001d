/**
 * The shared dial port: TCP hole punching in Node.
 *
 * A TCP hole punch is a simultaneous open: both peers send a SYN to the public address and port
 * under which the other's router maps it, and each router lets the other's SYN in because it
 * looks like the answer to its own. The public ports the peers exchange are the ones their
 * routers showed to others (identify's observed address), so a punch must leave from the local
 * port behind that mapping. go-libp2p listens and dials from one port (SO_REUSEPORT on both).
 * Node cannot: `net.connect({ localPort })` from a port a server listens on fails with
 * EADDRINUSE, with or without `server.listen({ reusePort: true })` (Node >= 22.12 sets
 * SO_REUSEPORT on the listening socket only). This is why js-libp2p's TCP punch always fails.
 *
 * What works (measured in the NAT lab, test/transport/tcp/hole-punch.test.ts): every outgoing
 * dial of a transport leaves from one fixed local port, separate from the listen port. libuv
 * binds an explicit local port with SO_REUSEADDR, so any number of outgoing sockets share it as
 * long as their destinations differ. An endpoint-independent router then maps that port to one
 * public port for every destination: the relay observes it, DCUtR sends it, and the punch
 * leaves from it. The listen port keeps serving peers that reach us directly.
 */

/** Ports chosen for sharing: above the usual service ports, inside what NATs preserve. */
const FIRST_SHARED_PORT = 40000
const SHARED_PORT_COUNT = 20000

/** Linux keeps a closed connection's 4-tuple in TIME_WAIT for 60 s. */
const TIME_WAIT_MS = 60_000
/** Destinations remembered; past this, expired entries are dropped (then the oldest). */
const MAX_BUSY_DESTINATIONS = 4096

export class SharedDialPort {
  #port: number | undefined
  readonly #fixed: boolean
  /**
   * Destinations the shared port is taken for (until when, ms since epoch; Infinity while
   * connected), so a repeated dial to the same place (benchmarks, reconnects) goes straight
   * to an ephemeral port instead of failing once first.
   */
  readonly #busy = new Map<string, number>()

  /** `port`: a given port to use (kept even when busy); undefined: choose one at random. */
  constructor (port?: number) {
    this.#port = port
    this.#fixed = port !== undefined
  }

  get port (): number | undefined { return this.#port }

  /** The port the next dial leaves from. */
  take (): number {
    this.#port ??= FIRST_SHARED_PORT + Math.floor(Math.random() * SHARED_PORT_COUNT)
    return this.#port
  }

  /** Whether the shared port cannot reach `destination` now (connected to it, or TIME_WAIT). */
  isBusyFor (destination: string): boolean {
    const until = this.#busy.get(destination)
    if (until === undefined) return false
    if (until > Date.now()) return true
    this.#busy.delete(destination)
    return false
  }

  /** The shared port is connected to `destination`; call `released` when that socket closes. */
  occupy (destination: string): void {
    if (this.#busy.size >= MAX_BUSY_DESTINATIONS) this.#prune()
    this.#busy.set(destination, Infinity)
  }

  /** The connection to `destination` closed: its 4-tuple may linger in TIME_WAIT. */
  released (destination: string): void {
    this.#busy.set(destination, Date.now() + TIME_WAIT_MS)
  }

  #prune (): void {
    const now = Date.now()
    for (const [destination, until] of this.#busy) if (until <= now) this.#busy.delete(destination)
    // still full of live connections: forget the oldest (a wrong guess costs one failed dial)
    if (this.#busy.size >= MAX_BUSY_DESTINATIONS) this.#busy.delete(this.#busy.keys().next().value as string)
  }

  /** Forgets a port another program holds, so `take()` chooses again; false for a given port. */
  release (port: number): boolean {
    if (this.#fixed || this.#port !== port) return false
    this.#port = undefined
    return true
  }
}

/**
 * The local-port errors that fail a dial before any packet is sent: EADDRINUSE (the port is
 * bound by a socket that does not share, e.g. a listener) or EADDRNOTAVAIL (a socket from this
 * port to this destination exists, or is in TIME_WAIT). Undefined for any other error.
 */
export function isLocalPortConflict (err: unknown): 'EADDRINUSE' | 'EADDRNOTAVAIL' | undefined {
  const code = ((err as { cause?: NodeJS.ErrnoException })?.cause ?? err as NodeJS.ErrnoException)?.code
  return code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' ? code : undefined
}
