/** The addresses this node listens on and announces. */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from './peer-id.ts'

export interface AddressManager {
  /** Addresses we were asked to listen on (configuration). */
  getListenAddrs(): Multiaddr[]
  /** Addresses we announce (bound listen addresses, announce/observed ones), each with /p2p. */
  getAddresses(): Multiaddr[]
  /** Reports an address a peer saw us at (identify observedAddr). Observed addresses are
   * announced once enough distinct `reporter`s confirmed them. */
  addObservedAddr(addr: Multiaddr, reporter?: PeerId): void
}
