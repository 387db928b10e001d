/**
 * DCUtR between ts-libp2p and rust-libp2p 0.57.1 across the NAT lab's endpoint-independent
 * NATs, both ways round: rust as B (the listener behind a relay reservation, DCUtR initiator)
 * with a ts A, and ts as B with a rust A. The relay is ts. The rust peer is interop/rust-peer
 * (DCUtR always on, --relay to reserve); it reports each punch as a holepunch event
 * `{peer, success}`. rust learns the address to punch from identify's observed address (the
 * router's mapping), as ours does. The suite (both directions over TCP and QUIC) is
 * test/support/lab/dcutr-suite.ts.
 */
import assert from 'node:assert/strict'
import { buildRustPeer, cargoAvailable } from '../interop/harness.ts'
import { natLabSkip } from '../support/lab/index.ts'
import { describeDcutrWith } from '../support/lab/dcutr-suite.ts'

describeDcutrWith({
  name: 'rust',
  skip: await natLabSkip() || (await cargoAvailable() ? false : 'no cargo toolchain (the rust peer is built with cargo)'),
  build: buildRustPeer,
  // a cold build compiles rust-libp2p
  buildTimeoutMs: 1_800_000,
  circuitOfB: (b, relayAddr) => {
    // rust reports its circuit address on the relay's first address of the reservation (TCP
    // here) whichever transport reserved it; A reaches the relay over the transport under test
    assert.ok(b.addrs.some(a => a.includes('/p2p-circuit')), JSON.stringify(b.addrs))
    return `${relayAddr}/p2p-circuit/p2p/${b.peerId}`
  }
})
