/** The addresses this node listens on and announces, and the external addresses it may prove. */
import type { Multiaddr } from '@multiformats/multiaddr'

/** What is known about whether others can dial an address. */
export type AddrReachability = 'public' | 'private' | 'unknown'

/** An address that needs proof before it is announced (or that claims to be public). */
export interface AddressCandidate {
  /** Without /p2p. */
  multiaddr: Multiaddr
  /** Where it came from: 'listen' (a bound public address), 'observed', or addCandidate's source ('upnp', ...). */
  source: string
  /** The last verdict set with setAddrReachability. */
  reachability: AddrReachability
}

/** The connection an observed address arrived over (its two ends decide whether it counts). */
export interface ObservingConnection {
  readonly remoteAddr: Multiaddr
  readonly localAddr?: Multiaddr
}

export interface AddressManager {
  /** Addresses we were asked to listen on (configuration). */
  getListenAddrs(): Multiaddr[]
  /** Addresses we announce (bound listen addresses, announce lists, confirmed external ones), each with /p2p. */
  getAddresses(): Multiaddr[]
  /** Reports an address a peer saw us at (identify observedAddr) over `connection`. It becomes
   * a candidate once enough distinct observers saw it, and is announced once confirmed. */
  addObservedAddr(addr: Multiaddr, connection?: ObservingConnection): void
  /** Adds an external address to prove (e.g. a UPnP mapping, source 'upnp'); announced once
   * confirmed with setAddrReachability(addr, 'public'). */
  addCandidate(addr: Multiaddr, source: string): void
  removeCandidate(addr: Multiaddr): void
  /** Addresses that need (or had) proof: public listen addresses, observed and added candidates. */
  getCandidates(): AddressCandidate[]
  /** Records a verdict (AutoNAT's): 'public' announces a candidate, 'private' withdraws it. */
  setAddrReachability(addr: Multiaddr, status: AddrReachability): void
  /** Where the address's host is reachable from, counting the configured public ranges. */
  reachabilityOf(addr: Multiaddr): 'loopback' | 'private' | 'link-local' | 'unroutable' | 'public'
}
