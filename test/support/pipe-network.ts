/**
 * The fake network of switch-level tests: raw connections over in-process duplex pairs, and a
 * transport that routes dials to listeners by address (with blackhole addresses that accept
 * and never speak). Above the switch, tests use real nodes over the memory transport
 * (./memory-node.ts) or fake connections (./fake-connections.ts).
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import { multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from '../../src/interface/common.ts'
import type { Listener, ListenerInit, RawConnection, Transport } from '../../src/interface/transport.ts'
import { PipeEnd, duplexPair } from '../../src/util/duplex-pair.ts'
import { ConnectionFailedError } from '../../src/util/errors.ts'
import { withoutPeerId } from '../../src/util/multiaddr.ts'

// ---- a raw connection on a duplex pair ----------------------------------------------------

export class PipeRawConnection extends PipeEnd implements RawConnection {
  remoteAddr: Multiaddr
  localAddr?: Multiaddr
  direction: 'inbound' | 'outbound'

  constructor (remoteAddr: Multiaddr, direction: 'inbound' | 'outbound') {
    super(64 * 1024)
    this.remoteAddr = remoteAddr
    this.direction = direction
  }
}

export function rawPair (dialerAddr = '/ip4/127.0.0.1/tcp/1111', listenerAddr = '/ip4/127.0.0.1/tcp/2222'): [PipeRawConnection, PipeRawConnection] {
  const a = new PipeRawConnection(multiaddr(listenerAddr), 'outbound')
  const b = new PipeRawConnection(multiaddr(dialerAddr), 'inbound')
  a.peer = b
  b.peer = a
  return [a, b]
}

// ---- a transport over duplex pairs --------------------------------------------------------

/** Routes dials to listeners in the same process by address string. */
export class PipeNetwork {
  readonly listeners = new Map<string, ListenerInit>()
  /** Addresses that accept the TCP-like connection and then never speak. */
  readonly blackholes = new Set<string>()
  readonly dialed: string[] = []
  #nextPort = 40000

  transport (name = 'pipe'): Transport {
    const network = this
    return {
      name,
      async dial (addr: Multiaddr, options?: AbortOptions): Promise<RawConnection> {
        options?.signal?.throwIfAborted()
        const key = withoutPeerId(addr).toString()
        network.dialed.push(key)
        const [local, remote] = rawPair(`/ip4/127.0.0.1/tcp/${network.#nextPort++}`, key)
        if (network.blackholes.has(key)) return local
        const listener = network.listeners.get(key)
        if (listener === undefined) throw new ConnectionFailedError(`ECONNREFUSED ${key}`)
        listener.onConnection(remote)
        return local
      },
      createListener (init: ListenerInit): Listener {
        let bound: Multiaddr | undefined
        return {
          async listen (addr: Multiaddr) {
            bound = addr
            network.listeners.set(addr.toString(), init)
          },
          getAddrs: () => bound === undefined ? [] : [bound],
          async close () {
            if (bound !== undefined) network.listeners.delete(bound.toString())
            bound = undefined
          }
        }
      },
      listenFilter: addrs => addrs.filter(a => a.toString().startsWith('/ip4/')),
      dialFilter: addrs => addrs.filter(a => a.toString().startsWith('/ip4/'))
    }
  }
}
