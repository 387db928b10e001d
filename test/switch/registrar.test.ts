import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { DefaultRegistrar } from '../../src/switch/registrar.ts'
import { TypedEventEmitter } from '../../src/util/events.ts'
import type { Libp2pEvents } from '../../src/interface/events.ts'
import type { Connection } from '../../src/interface/connection.ts'
import type { PeerId } from '../../src/interface/peer-id.ts'
import { makePeer, waitFor } from './doubles.ts'
import { memoryPeerStore } from '../support/peer-store.ts'

function fakeConnection (remotePeer: PeerId, limits?: Connection['limits']): Connection {
  return {
    id: 'c', remotePeer, remoteAddr: multiaddr('/ip4/1.2.3.4/tcp/1'), direction: 'outbound', encryption: '', multiplexer: '',
    status: 'open', timeline: { open: 0 }, limits, streams: [],
    newStream: async () => { throw new Error('no') },
    close: async () => {},
    abort: () => {}
  }
}

function setup () {
  const events = new TypedEventEmitter<Libp2pEvents>()
  const peerStore = memoryPeerStore()
  const connections: Connection[] = []
  let changes = 0
  const registrar = new DefaultRegistrar({ events, peerStore, getConnections: p => connections.filter(c => p === undefined || c.remotePeer.equals(p)), onProtocolsChange: () => { changes++ } })
  registrar.start()
  return { events, peerStore, connections, registrar, changes: () => changes }
}

function identify (events: TypedEventEmitter<Libp2pEvents>, peerId: PeerId, protocols: string[], connection: Connection): void {
  events.safeDispatch('peer:identify', { peerId, protocols, listenAddrs: [], connection })
}

describe('DefaultRegistrar', () => {
  it('handles, lists and unhandles protocols with default limits', () => {
    const { registrar, changes } = setup()
    registrar.handle('/b/1', () => {})
    registrar.handle('/a/1', () => {}, { maxInboundStreams: 3 })
    assert.deepEqual(registrar.getProtocols(), ['/a/1', '/b/1'])
    assert.equal(registrar.getHandler('/a/1')?.options.maxInboundStreams, 3)
    assert.equal(registrar.getHandler('/a/1')?.options.maxOutboundStreams, 64)
    assert.equal(registrar.getHandler('/b/1')?.options.maxInboundStreams, 32)
    assert.throws(() => { registrar.handle('/a/1', () => {}) }, { code: 'ERR_INVALID_PARAMETERS' })
    assert.throws(() => { registrar.handle('', () => {}) }, { code: 'ERR_INVALID_PARAMETERS' })
    registrar.unhandle('/a/1')
    registrar.unhandle('/never')
    assert.deepEqual(registrar.getProtocols(), ['/b/1'])
    assert.equal(changes(), 3)
  })

  it('fires topology onConnect once per peer after identify, onDisconnect on disconnect', async () => {
    const { events, registrar } = setup()
    const { peerId } = await makePeer()
    const calls: string[] = []
    registrar.register('/x/1', { onConnect: p => calls.push(`connect ${p}`), onDisconnect: p => calls.push(`disconnect ${p}`) })
    const conn = fakeConnection(peerId)
    identify(events, peerId, ['/y/1'], conn)
    assert.deepEqual(calls, [])
    identify(events, peerId, ['/x/1', '/y/1'], conn)
    identify(events, peerId, ['/x/1'], conn)
    assert.deepEqual(calls, [`connect ${peerId}`])
    // a later identify without the protocol counts as a disconnect for the topology
    identify(events, peerId, ['/y/1'], conn)
    assert.deepEqual(calls, [`connect ${peerId}`, `disconnect ${peerId}`])
    identify(events, peerId, ['/x/1'], conn)
    events.safeDispatch('peer:disconnect', peerId)
    events.safeDispatch('peer:disconnect', peerId)
    assert.deepEqual(calls, [`connect ${peerId}`, `disconnect ${peerId}`, `connect ${peerId}`, `disconnect ${peerId}`])
  })

  it('skips limited connections unless the topology asks for them', async () => {
    const { events, registrar } = setup()
    const { peerId } = await makePeer()
    const calls: string[] = []
    registrar.register('/x/1', { onConnect: () => calls.push('plain') })
    registrar.register('/x/1', { onConnect: () => calls.push('limited-ok'), notifyOnLimitedConnection: true })
    identify(events, peerId, ['/x/1'], fakeConnection(peerId, { seconds: 60 }))
    assert.deepEqual(calls, ['limited-ok'])
  })

  it('uses peer store protocols at connect time and for late registrations', async () => {
    const { events, registrar, peerStore, connections } = setup()
    const { peerId } = await makePeer()
    await peerStore.merge(peerId, { protocols: ['/x/1'] })
    const calls: string[] = []
    registrar.register('/x/1', { onConnect: () => calls.push('early') })
    connections.push(fakeConnection(peerId))
    events.safeDispatch('peer:connect', peerId)
    await waitFor(() => calls.length === 1)
    const id = registrar.register('/x/1', { onConnect: () => calls.push('late') })
    await waitFor(() => calls.length === 2)
    assert.deepEqual(calls, ['early', 'late'])
    registrar.unregister(id)
    events.safeDispatch('peer:disconnect', peerId)
    identify(events, peerId, ['/x/1'], connections[0])
    assert.deepEqual(calls, ['early', 'late', 'early'])
  })

  it('a throwing topology does not break the others', async () => {
    const { events, registrar } = setup()
    const { peerId } = await makePeer()
    const calls: string[] = []
    registrar.register('/x/1', { onConnect: () => { throw new Error('bad topology') } })
    registrar.register('/x/1', { onConnect: () => calls.push('ok') })
    identify(events, peerId, ['/x/1'], fakeConnection(peerId))
    assert.deepEqual(calls, ['ok'])
  })
})
