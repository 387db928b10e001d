/**
 * DCUtR between ts-libp2p and go-libp2p across the NAT lab's endpoint-independent NATs, both
 * ways round: go as B (the listener behind a relay reservation, DCUtR initiator) with a ts A,
 * and ts as B with a go A. The relay is ts. The go peer is interop/go-peer with --relay and
 * --holepunch (holepunch.go); it reports each punch as a holepunch event like `start --events`.
 * The suite (both directions over TCP and QUIC) is test/support/lab/dcutr-suite.ts.
 */
import { buildGoPeer } from '../interop/harness.ts'
import { natLabSkip } from '../support/lab/index.ts'
import { describeDcutrWith } from '../support/lab/dcutr-suite.ts'

describeDcutrWith({
  name: 'go',
  skip: await natLabSkip(),
  build: buildGoPeer,
  args: ['--holepunch']
})
