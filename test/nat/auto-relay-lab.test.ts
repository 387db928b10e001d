/**
 * Reachability lab cases with the real CLI and a relay the node knows only as a bootstrap peer.
 * Private: behind an endpoint-independent NAT the node finds out it is private (AutoNAT),
 * reserves on that relay (auto-relay) and becomes reachable through it: another NATed host
 * pings it at its `/p2p-circuit` address. Full cone: behind a router that forwards its listen
 * port, AutoNAT says public, no reservation is made, and the internet reaches it directly.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createNatLab, INTERNET_CIDR, natLabSkip, runLabCli, startLabNode, RELAY_ADDRESS, type LabNode, type NatLab } from '../support/lab/index.ts'

const skip = await natLabSkip()

describe('reachability and auto-relay in the NAT lab', { skip }, () => {
  let lab: NatLab
  let relay: LabNode
  before(async () => {
    lab = await createNatLab({ natA: 'eim', natB: 'eim', delayMs: 25 })
    relay = await startLabNode(lab.relay, ['--listen', `/ip4/${RELAY_ADDRESS}/tcp/4001`, '--listen', `/ip4/${RELAY_ADDRESS}/udp/4001/quic-v1`, '--relay-server', '--public-cidr', INTERNET_CIDR])
  })
  after(async () => {
    await relay?.stop()
    await lab?.close()
  })

  it('private: AutoNAT says private, auto-relay reserves on the known relay, the node is reachable through it', async () => {
    const relayAddr = `/ip4/${RELAY_ADDRESS}/tcp/4001/p2p/${relay.peerId}`
    const b = await startLabNode(lab.hostB, ['--listen', '/ip4/0.0.0.0/tcp/4001', '--bootstrap', relayAddr, '--public-cidr', INTERNET_CIDR])
    try {
      const reachability = await b.nextEvent('reachability', e => e.status === 'private', 90_000)
      assert.equal(reachability.status, 'private')
      const reserved = await b.nextEvent('relay:reservation', e => e.status === 'reserved', 60_000)
      assert.equal(reserved.relay, relay.peerId)
      const circuit = (reserved.addrs as string[]).find(a => a.includes('/p2p-circuit'))
      assert.ok(circuit !== undefined, JSON.stringify(reserved))
      const target = circuit.includes(`/p2p/${b.peerId}`) ? circuit : `${circuit}/p2p/${b.peerId}`
      const pings = (await runLabCli(lab.hostA, ['ping', target, '--count', '1'])).map(l => JSON.parse(l) as { seq: number })
      assert.deepEqual(pings.map(p => p.seq), [1])
    } finally {
      await b.stop()
    }
  })

  it('private over QUIC: the AutoNAT dial-back leaves from a socket of its own, so the NAT\'s filter stops it', async () => {
    // B talks to the relay from its QUIC listen socket; a dial-back from the relay's listen
    // socket would match that conversation in router B's filter and "prove" B public.
    const relayAddr = `/ip4/${RELAY_ADDRESS}/udp/4001/quic-v1/p2p/${relay.peerId}`
    const b = await startLabNode(lab.hostB, ['--listen', '/ip4/0.0.0.0/udp/4003/quic-v1', '--bootstrap', relayAddr, '--public-cidr', INTERNET_CIDR])
    try {
      const seen: Array<Record<string, unknown>> = []
      const verdict = await b.nextEvent('reachability', e => { seen.push(e); return e.status !== 'unknown' }, 90_000)
      assert.equal(verdict.status, 'private', JSON.stringify(seen))
    } finally {
      await b.stop()
    }
  })

  it('full cone: AutoNAT says public and no relay is used', async () => {
    await lab.routerA.setNat('fullcone')
    const relayAddr = `/ip4/${RELAY_ADDRESS}/tcp/4001/p2p/${relay.peerId}`
    // inside the router's forwarded range, so the router's public address reaches it
    const a = await startLabNode(lab.hostA, ['--listen', '/ip4/0.0.0.0/tcp/30001', '--bootstrap', relayAddr, '--public-cidr', INTERNET_CIDR])
    try {
      const seen: Array<Record<string, unknown>> = []
      const verdict = await a.nextEvent('reachability', e => { seen.push(e); return e.status !== 'unknown' }, 90_000)
      assert.equal(verdict.status, 'public', JSON.stringify(seen))
      // Everything printed up to the verdict: no reservation was made.
      const text = a.process.stdoutText()
      assert.ok(!text.includes('"relay:reservation"'), text)
      const pings = (await runLabCli(lab.relay, ['ping', `/ip4/${lab.routerA.wanAddress}/tcp/30001/p2p/${a.peerId}`, '--count', '1'])).map(l => JSON.parse(l) as { addr: string })
      assert.ok(!pings[0].addr.includes('/p2p-circuit'), pings[0].addr)
    } finally {
      await a.stop()
      await lab.routerA.setNat('eim')
    }
  })
})
