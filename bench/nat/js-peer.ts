/**
 * bench:nat's js-libp2p peer, run on a lab host: TCP, Noise, Yamux, identify, the circuit
 * relay transport and DCUtR, as a js-libp2p user would configure them.
 *   js-peer.ts --listen MA --announce MA --relay RELAY_MA   B: reserve on the relay, then report
 *   js-peer.ts --listen MA --announce MA --dial CIRCUIT_MA  A: connect to B through the relay
 * `--announce` is the host's public address (router WAN and listen port), what AutoNAT would
 * have confirmed. stdout: {"peerId":...,"addrs":[...]} once ready (B: once the relay address is
 * there), {"event":"relayed","peer":...} per relayed connection, then {"event":"direct","peer":...,"ms":N} when a direct connection to a peer we
 * already had a relayed one with opens (ms since the relayed one opened).
 */
import { parseArgs } from 'node:util'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { dcutr } from '@libp2p/dcutr'
import { multiaddr } from '@multiformats/multiaddr'

const { values } = parseArgs({ options: { listen: { type: 'string' }, announce: { type: 'string' }, relay: { type: 'string' }, dial: { type: 'string' } } })
const listen = [values.listen ?? '/ip4/0.0.0.0/tcp/0']
if (values.relay !== undefined) listen.push(`${values.relay}/p2p-circuit`)

const node = await createLibp2p({
  addresses: { listen, appendAnnounce: values.announce !== undefined ? [values.announce] : [] },
  transports: [tcp(), circuitRelayTransport()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: { identify: identify(), dcutr: dcutr() }
})

const relayedSince = new Map<string, number>()
node.addEventListener('connection:open', evt => {
  const connection = evt.detail
  const peer = connection.remotePeer.toString()
  if (connection.remoteAddr.toString().includes('/p2p-circuit')) {
    relayedSince.set(peer, performance.now())
    console.log(JSON.stringify({ event: 'relayed', peer }))
  } else if (relayedSince.has(peer)) {
    console.log(JSON.stringify({ event: 'direct', peer, ms: Math.round(performance.now() - relayedSince.get(peer)!), addr: connection.remoteAddr.toString() }))
    relayedSince.delete(peer)
  }
})

const printStart = (): void => { console.log(JSON.stringify({ peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map(String) })) }
if (values.relay !== undefined) {
  const hasCircuit = (): boolean => node.getMultiaddrs().some(a => a.toString().includes('/p2p-circuit'))
  if (hasCircuit()) printStart()
  else {
    const onUpdate = (): void => {
      if (!hasCircuit()) return
      node.removeEventListener('self:peer:update', onUpdate)
      printStart()
    }
    node.addEventListener('self:peer:update', onUpdate)
  }
} else {
  printStart()
}
if (values.dial !== undefined) await node.dial(multiaddr(values.dial))

const stop = (): void => { void Promise.resolve(node.stop()).finally(() => process.exit(0)) }
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
