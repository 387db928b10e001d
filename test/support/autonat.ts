/**
 * The set-up the AutoNAT tests share (ts nodes against go, js and rust peers in
 * test/interop/autonat*.test.ts, and ts against ts in test/protocols/autonat/): a ts node on
 * loopback TCP with AutoNAT whose loopback addresses count as public, a dial that waits for
 * identify to tell what the other side speaks, and the first answer a v1 server gave.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from '../../src/index.ts'
import type { Libp2p } from '../../src/index.ts'
import type { Connection } from '../../src/interface/connection.ts'
import type { IdentifyResult } from '../../src/interface/events.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { identify, type IdentifyService } from '../../src/protocols/identify/index.ts'
import { autoNAT, type AutoNATOptions, type AutoNATService } from '../../src/protocols/autonat/index.ts'
import { peerIdFromString } from '../../src/peer/peer-id.ts'

/** Long enough that the service's own schedule never runs in a test. */
export const NEVER = 24 * 3600_000

export type AutoNATNode = Libp2p<{ identify: IdentifyService, autonat: AutoNATService }>

/**
 * A started ts node with identify and `autoNAT(options)` over TCP, listening on `listen`
 * (default one port on 127.0.0.1), with 127.0.0.0/8 counted as public (as a lab would
 * configure it), so AutoNAT on loopback behaves as between public hosts.
 */
export async function loopbackAutoNATNode (options: AutoNATOptions, listen = ['/ip4/127.0.0.1/tcp/0']): Promise<AutoNATNode> {
  return await createLibp2p({
    addresses: { listen, publicCidrs: ['127.0.0.0/8'] },
    transports: [tcp()],
    services: { identify: identify(), autonat: autoNAT(options) }
  })
}

/**
 * Dials `addr` (a peer's address with its /p2p) and resolves once identify has run with that
 * peer: the connection and the protocols the peer said it speaks.
 */
export async function dialIdentified (node: Libp2p, addr: string, peerId: string): Promise<{ connection: Connection, protocols: string[] }> {
  const remote = peerIdFromString(peerId)
  let identifiedRemote: (result: IdentifyResult) => void = () => {}
  const identified = new Promise<IdentifyResult>(resolve => { identifiedRemote = resolve })
  const onIdentify = (evt: CustomEvent<IdentifyResult>): void => { if (evt.detail.peerId.equals(remote)) identifiedRemote(evt.detail) }
  node.addEventListener('peer:identify', onIdentify)
  try {
    const connection = await node.dial(multiaddr(addr))
    return { connection, protocols: (await identified).protocols }
  } finally {
    node.removeEventListener('peer:identify', onIdentify)
  }
}

export interface V1ServedAnswer { peer: string, status: number, addr?: string }

/**
 * An `onServed` hook for `autoNAT({ v1Server: { onServed } })` and a promise of the first
 * answer the server gave through it.
 */
export function firstV1Answer (): { onServed(peer: string, status: number, addr?: { toString(): string }): void, answered: Promise<V1ServedAnswer> } {
  let served: (answer: V1ServedAnswer) => void = () => {}
  const answered = new Promise<V1ServedAnswer>(resolve => { served = resolve })
  return { onServed: (peer, status, addr) => { served({ peer, status, addr: addr?.toString() }) }, answered }
}
