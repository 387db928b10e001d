import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { InboundAdmission, type PendingHandshake } from '../../src/switch/inbound-admission.ts'
import type { RawConnection } from '../../src/interface/transport.ts'

/** The admission table reads remoteAddr, uses the object as a key, and aborts waiters on stop. */
function rawFrom (ip: string): RawConnection {
  const family = ip.includes(':') ? 'ip6' : 'ip4'
  return { remoteAddr: multiaddr(`/${family}/${ip}/tcp/4001`), abort: () => {} } as unknown as RawConnection
}

/** admit(), flattened for assertions: the handshake if admitted at once, 'waiting' if queued, else the refusal. */
function tryAdmit (table: InboundAdmission, raw: RawConnection, now?: number): PendingHandshake | string {
  let admittedNow: PendingHandshake | undefined
  let sync = true
  const refusal = table.admit(raw, h => { if (sync) admittedNow = h }, now)
  sync = false
  return refusal ?? admittedNow ?? 'waiting'
}

function admitted (result: PendingHandshake | string): PendingHandshake {
  assert.equal(typeof result, 'object', `not admitted: ${String(result)}`)
  return result as PendingHandshake
}

describe('inbound admission', () => {
  it('caps pending handshakes per address and per subnet, IPv4 and IPv6', () => {
    const table = new InboundAdmission({ maxPendingPerAddress: 2, maxPendingPerSubnet: 3, inboundConnectionThreshold: 100 })
    admitted(tryAdmit(table, rawFrom('198.51.100.7')))
    admitted(tryAdmit(table, rawFrom('198.51.100.7')))
    assert.match(tryAdmit(table, rawFrom('198.51.100.7')) as string, /2 handshakes already pending from 198\.51\.100\.7/)
    admitted(tryAdmit(table, rawFrom('198.51.100.8')))
    assert.match(tryAdmit(table, rawFrom('198.51.100.9')) as string, /subnet/)
    admitted(tryAdmit(table, rawFrom('198.51.101.9')))
    // IPv6: one /64 is one address, one /48 one subnet
    admitted(tryAdmit(table, rawFrom('2001:db8:1:1::1')))
    admitted(tryAdmit(table, rawFrom('2001:db8:1:1::2')))
    assert.match(tryAdmit(table, rawFrom('2001:db8:1:1::3')) as string, /already pending from/)
    admitted(tryAdmit(table, rawFrom('2001:db8:1:2::1')))
    assert.match(tryAdmit(table, rawFrom('2001:db8:1:3::1')) as string, /subnet/)
    assert.equal(table.pending, 7)
  })

  it('counts private ranges per address only (a LAN), unless limitPrivateSubnets', () => {
    const lan = new InboundAdmission({ maxPendingPerAddress: 2, maxPendingPerSubnet: 3, maxIncomingPendingConnections: 64, inboundConnectionThreshold: 100 })
    for (let i = 1; i <= 20; i++) admitted(tryAdmit(lan, rawFrom(`10.1.2.${i}`)))
    admitted(tryAdmit(lan, rawFrom('10.1.2.1')))
    assert.match(tryAdmit(lan, rawFrom('10.1.2.1')) as string, /2 handshakes already pending from 10\.1\.2\.1/)
    const strict = new InboundAdmission({ maxPendingPerAddress: 2, maxPendingPerSubnet: 3, inboundConnectionThreshold: 100, limitPrivateSubnets: true })
    for (let i = 1; i <= 3; i++) admitted(tryAdmit(strict, rawFrom(`10.1.2.${i}`)))
    assert.match(tryAdmit(strict, rawFrom('10.1.2.4')) as string, /subnet/)
  })

  it('a finished handshake frees its place, once', () => {
    const table = new InboundAdmission({ maxPendingPerAddress: 1, inboundConnectionThreshold: 100 })
    const first = admitted(tryAdmit(table, rawFrom('203.0.113.1')))
    assert.equal(typeof tryAdmit(table, rawFrom('203.0.113.1')), 'string')
    first.done()
    first.done()
    const second = admitted(tryAdmit(table, rawFrom('203.0.113.1')))
    assert.equal(table.pending, 1)
    second.done()
    assert.equal(table.pending, 0)
  })

  it('when full, evicts the oldest pending handshake once it is older than an honest one takes; a newcomer before that waits', async () => {
    const table = new InboundAdmission({ maxIncomingPendingConnections: 3, pendingEvictionAge: 1000, inboundConnectionThreshold: 100 })
    const t0 = 1_000_000
    const stalled = [1, 2, 3].map(i => admitted(tryAdmit(table, rawFrom(`192.0.2.${i}`), t0 + i)))
    const honest = admitted(tryAdmit(table, rawFrom('192.0.2.51'), t0 + 1001))
    assert.equal(stalled[0].signal.aborted, true)
    assert.equal((stalled[0].signal.reason as Error).name, 'ConnectionDeniedError')
    assert.match((stalled[0].signal.reason as Error).message, /evicted after 1000 ms/)
    assert.equal(stalled[1].signal.aborted, false)
    assert.equal(honest.signal.aborted, false)
    assert.equal(table.pending, 3)
    // the evicted one's own done() later does not remove someone else's place
    stalled[0].done()
    assert.equal(table.pending, 3)
  })

  it('a newcomer to a full, young table waits unread and is admitted when a place frees; the queue is bounded', async () => {
    const table = new InboundAdmission({ maxIncomingPendingConnections: 2, pendingEvictionAge: 60_000, inboundConnectionThreshold: 100 })
    const first = admitted(tryAdmit(table, rawFrom('192.0.2.1')))
    admitted(tryAdmit(table, rawFrom('192.0.2.2')))
    const later = new Promise<PendingHandshake>(resolve => { assert.equal(table.admit(rawFrom('192.0.2.3'), resolve), undefined) })
    assert.equal(tryAdmit(table, rawFrom('192.0.2.4')), 'waiting')
    assert.match(tryAdmit(table, rawFrom('192.0.2.5')) as string, /2 inbound handshakes in progress and 2 waiting/)
    assert.equal(table.waiting, 2)
    first.done()
    const admittedLater = await later
    assert.equal(admittedLater.signal.aborted, false)
    assert.equal(table.pending, 2)
    assert.equal(table.waiting, 1)
    table.abortAll(new Error('stop'))
  })

  it('a waiting newcomer evicts the oldest once that one is old enough, without a place freeing', async () => {
    const table = new InboundAdmission({ maxIncomingPendingConnections: 1, pendingEvictionAge: 50, inboundConnectionThreshold: 100 })
    const stalled = admitted(tryAdmit(table, rawFrom('192.0.2.1')))
    const later = new Promise<PendingHandshake>(resolve => { table.admit(rawFrom('192.0.2.2'), resolve) })
    const handshake = await later
    assert.equal(stalled.signal.aborted, true)
    assert.equal(handshake.signal.aborted, false)
    table.abortAll(new Error('stop'))
  })

  it('rate-limits new sockets per host per second', () => {
    const table = new InboundAdmission({ inboundConnectionThreshold: 2, maxPendingPerAddress: 100 })
    const t0 = 5_000_000
    admitted(tryAdmit(table, rawFrom('198.51.100.1'), t0)).done()
    admitted(tryAdmit(table, rawFrom('198.51.100.1'), t0 + 10)).done()
    assert.match(tryAdmit(table, rawFrom('198.51.100.1'), t0 + 20) as string, /more than 2 connections per second/)
    admitted(tryAdmit(table, rawFrom('198.51.100.2'), t0 + 20))
    admitted(tryAdmit(table, rawFrom('198.51.100.1'), t0 + 1000))
  })

  it('exempts loopback from the per-address caps unless limitLoopback; allowlisted hosts skip every rule', () => {
    const open = new InboundAdmission({ maxPendingPerAddress: 1, inboundConnectionThreshold: 100 })
    admitted(tryAdmit(open, rawFrom('127.0.0.2')))
    admitted(tryAdmit(open, rawFrom('127.0.0.2')))
    const strict = new InboundAdmission({ maxPendingPerAddress: 1, inboundConnectionThreshold: 100, limitLoopback: true })
    admitted(tryAdmit(strict, rawFrom('127.0.0.2')))
    assert.equal(typeof tryAdmit(strict, rawFrom('127.0.0.2')), 'string')
    const allow = new InboundAdmission({ maxPendingPerAddress: 1, inboundConnectionThreshold: 1, maxIncomingPendingConnections: 1, pendingEvictionAge: 60_000, allow: ['203.0.113.9'] })
    for (let i = 0; i < 5; i++) admitted(tryAdmit(allow, rawFrom('203.0.113.9')))
  })

  it('exempts loopback from the rate too unless limitLoopback, as from the per-address caps', () => {
    const t0 = 7_000_000
    for (const host of ['127.0.0.1', '::1']) {
      const open = new InboundAdmission({ inboundConnectionThreshold: 2 })
      for (let i = 0; i < 10; i++) admitted(tryAdmit(open, rawFrom(host), t0 + i)).done()
      const strict = new InboundAdmission({ inboundConnectionThreshold: 2, limitLoopback: true })
      admitted(tryAdmit(strict, rawFrom(host), t0)).done()
      admitted(tryAdmit(strict, rawFrom(host), t0 + 1)).done()
      assert.match(tryAdmit(strict, rawFrom(host), t0 + 2) as string, /more than 2 connections per second/)
      open.abortAll(new Error('stop'))
      strict.abortAll(new Error('stop'))
    }
  })

  it('abortAll aborts every pending handshake and empties the table', () => {
    const table = new InboundAdmission({ inboundConnectionThreshold: 100 })
    const pending = [1, 2].map(i => admitted(tryAdmit(table, rawFrom(`192.0.2.${i}`))))
    table.abortAll(new Error('stopping'))
    assert.deepEqual(pending.map(p => p.signal.aborted), [true, true])
    assert.equal(table.pending, 0)
  })
})
