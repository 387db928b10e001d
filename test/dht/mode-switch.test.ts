/** The DHT's mode follows the node's reachability, with a hold between switches; an explicit mode wins. */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { DhtModeSwitch } from '../../src/dht/mode-switch.ts'
import type { DhtMode } from '../../src/dht/mode-switch.ts'
import { TypedEventEmitter } from '../../src/util/events.ts'
import type { Libp2pEvents } from '../../src/interface/events.ts'
import { kadDHT, KAD_PROTOCOL } from '../../src/dht/index.ts'
import type { KadDHT } from '../../src/dht/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { makeNode, stopAll } from '../node/helpers.ts'

describe('DhtModeSwitch on a fake clock', () => {
  it('private -> client at once; later verdicts wait out the hold; unknown changes nothing', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
    const events = new TypedEventEmitter<Libp2pEvents>()
    let mode: DhtMode = 'server'
    const switches: DhtMode[] = []
    const modeSwitch = new DhtModeSwitch({ events, getMode: () => mode, setMode: (m) => { mode = m; switches.push(m) }, holdMs: 60_000 })
    modeSwitch.start()
    const say = (status: 'public' | 'private' | 'unknown'): void => { events.safeDispatch('reachability', { status, addrs: [] }) }
    say('unknown')
    assert.deepEqual(switches, [])
    say('private')
    assert.deepEqual(switches, ['client'])
    // a flapping verdict inside the hold: nothing happens until the hold ends
    say('public'); say('private'); say('public')
    t.mock.timers.tick(59_999)
    assert.deepEqual(switches, ['client'])
    t.mock.timers.tick(1)
    assert.deepEqual(switches, ['client', 'server'], 'the verdict that stood at the end of the hold')
    // a wish withdrawn before the hold ends is not carried out
    say('private')
    say('public')
    t.mock.timers.tick(120_000)
    assert.deepEqual(switches, ['client', 'server'])
    modeSwitch.stop()
    say('private')
    t.mock.timers.tick(120_000)
    assert.deepEqual(switches, ['client', 'server'])
  })
})

describe('the DHT service follows reachability', () => {
  after(stopAll)

  it('leaves server mode (stops advertising the protocol) when private, returns when public; an explicit mode ignores both', async () => {
    const auto = await makeNode({ services: { identify: identify(), dht: kadDHT({ initialRefresh: false, modeSwitchHoldoff: 0 }) } })
    const fixed = await makeNode({ services: { identify: identify(), dht: kadDHT({ mode: 'server', initialRefresh: false }) } })
    const dhtOf = (n: typeof auto): KadDHT => n.services.dht as KadDHT
    assert.equal(dhtOf(auto).mode, 'server')
    for (const node of [auto, fixed]) node.safeDispatch('reachability', { status: 'private', addrs: [] })
    assert.equal(dhtOf(auto).mode, 'client')
    assert.ok(!auto.getProtocols().includes(KAD_PROTOCOL))
    assert.equal(dhtOf(fixed).mode, 'server')
    assert.ok(fixed.getProtocols().includes(KAD_PROTOCOL))
    auto.safeDispatch('reachability', { status: 'public', addrs: [] })
    assert.equal(dhtOf(auto).mode, 'server')
    assert.ok(auto.getProtocols().includes(KAD_PROTOCOL))
  })
})
