/**
 * The "private" lab case: a node behind a NAT that knows only a relay (as a bootstrap peer, not
 * told to use it) finds out it is private (AutoNAT), makes a reservation on that relay
 * (auto-relay) and becomes reachable through it: another NATed host pings it at its
 * `/p2p-circuit` address.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createNatLab, INTERNET_CIDR, natLabSkip, runLabCli, startLabNode, RELAY_ADDRESS, type LabNode, type NatLab } from '../support/lab/index.ts'

const skip = await natLabSkip()

describe('auto-relay in the NAT lab', { skip }, () => {
  let lab: NatLab
  let relay: LabNode
  before(async () => {
    lab = await createNatLab({ natA: 'eim', natB: 'eim', delayMs: 25 })
    relay = await startLabNode(lab.relay, ['--listen', `/ip4/${RELAY_ADDRESS}/tcp/4001`, '--relay-server', '--public-cidr', INTERNET_CIDR])
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
})
