/**
 * The resource manager on real sockets: an address over its per-IP limit is refused at accept
 * while an honest peer from another address connects and pings; everything it held is released
 * when the sockets go; and `ts-libp2p start --echo` serves 256 concurrent echo streams from one
 * peer; and slow handshakes from many addresses are cut at the upgrade deadline.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLibp2p, multiaddr } from '../../../src/index.ts'
import type { Libp2p } from '../../../src/index.ts'
import { tcp } from '../../../src/transport/tcp/index.ts'
import { noise } from '../../../src/security/noise/index.ts'
import { yamux } from '../../../src/muxer/yamux/index.ts'
import { ping, type PingService } from '../../../src/protocols/ping/index.ts'
import { identify } from '../../../src/protocols/identify/index.ts'
import type { Libp2pNode } from '../../../src/node/libp2p.ts'
import type { ResourceLimitError } from '../../../src/switch/resource-manager/index.ts'
import { startCli } from '../../cli/run-cli.ts'
import { waitFor } from '../doubles.ts'

const stack = () => ({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })

/** A raw TCP socket from `localAddress` to the node; resolves once connected. */
async function rawSocket (port: number, localAddress: string): Promise<Socket> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress }, () => { resolve(socket) })
    socket.once('error', reject)
  })
}

test('an address over its per-IP limit is refused at accept; an honest peer from another address still pings; all is released', async () => {
  const refusals: ResourceLimitError[] = []
  const node = await createLibp2p({
    ...stack(),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    services: { identify: identify(), ping: ping() },
    resourceManager: { limits: { ip: { conns: 3 } }, limitLoopback: true, onRefusal: (err) => { refusals.push(err) } }
  }) as unknown as Libp2pNode<{ ping: PingService }>
  const honest = await createLibp2p({ ...stack(), services: { identify: identify(), ping: ping() } })
  const sockets: Socket[] = []
  try {
    const port = Number(node.getMultiaddrs()[0].toString().split('/')[4])
    const rm = node.resourceManager!
    for (let i = 0; i < 3; i++) sockets.push(await rawSocket(port, '127.0.0.2'))
    await waitFor(() => rm.system.usage.connsInbound === 3, 5000, 'three held connections')
    // the node resets it at accept: it may even fail before its connect callback runs
    const refused = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' })
    refused.on('error', () => {})
    sockets.push(refused)
    await new Promise<void>(resolve => { refused.once('close', () => { resolve() }) })
    assert.equal(rm.system.usage.connsInbound, 3, 'the fourth from that address took nothing')
    assert.deepEqual(refusals.map(e => [e.scope, e.limit]), [['ip:4/32:7f000002', 'conns']])
    const rtt = await (honest as unknown as Libp2p<{ ping: PingService }>).services.ping.ping(multiaddr(node.getMultiaddrs()[0].toString()))
    assert.ok(rtt >= 0)
    for (const s of sockets) s.destroy()
    await waitFor(() => rm.system.usage.connsInbound === 1, 15_000, 'the raw sockets released')
    await honest.hangUp(node.peerId)
    await waitFor(() => rm.system.isEmpty() && rm.transient.isEmpty() && rm.scopeCount === 0, 10_000, 'every scope empty')
  } finally {
    for (const s of sockets) s.destroy()
    await Promise.all([node.stop(), honest.stop()])
  }
})

test('ts-libp2p start --echo serves 256 concurrent echo streams from one peer', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-echo-'))
  const cli = startCli(['start', '--echo', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', dir, '--allow', '10.0.0.0/8', '--conns-per-ip', '16'])
  const client = await createLibp2p({ ...stack(), services: { identify: identify() } })
  try {
    const { addrs } = JSON.parse(await cli.nextLine('stdout')) as { addrs: string[] }
    const connection = await client.dial(multiaddr(addrs[0]))
    const payload = new Uint8Array(1024).fill(7)
    const results = await Promise.all(Array.from({ length: 256 }, async (_, i) => {
      const stream = await connection.newStream('/echo/1.0.0', { maxOutboundStreams: 256 })
      payload[0] = i & 0xff
      const sent = payload.slice()
      await stream.write(sent)
      await stream.closeWrite()
      let received = 0
      for await (const chunk of stream) received += chunk.length
      return received
    }))
    assert.deepEqual(results, new Array(256).fill(1024))
  } finally {
    await client.stop()
    await cli.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('slow handshakes (a first byte, then nothing) from many addresses are cut at the upgrade deadline and release what they held; an honest peer pings meanwhile', async () => {
  const node = await createLibp2p({
    ...stack(),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    services: { identify: identify(), ping: ping() },
    connectionManager: { inboundUpgradeTimeout: 1000 }
  }) as unknown as Libp2pNode<{ ping: PingService }>
  const honest = await createLibp2p({ ...stack(), services: { identify: identify(), ping: ping() } })
  const sockets: Socket[] = []
  try {
    const port = Number(node.getMultiaddrs()[0].toString().split('/')[4])
    const rm = node.resourceManager!
    // 8 attackers on 127.0.0.3..10 (under the 10 pending upgrades the connection manager
    // allows), each sending the first byte of a multistream-select header (its length prefix)
    // and then stalling, as a peer sending one byte per second would
    for (let i = 0; i < 8; i++) {
      const socket = await rawSocket(port, `127.0.0.${3 + i}`)
      socket.on('error', () => {})
      socket.write(Uint8Array.of(19))
      sockets.push(socket)
    }
    const closed = Promise.all(sockets.map(async s => { await new Promise<void>(resolve => { if (s.closed) resolve(); else s.once('close', () => { resolve() }) }) }))
    await waitFor(() => rm.system.usage.connsInbound === 8, 5000, 'eight stalled handshakes held')
    const started = Date.now()
    const rtt = await (honest as unknown as Libp2p<{ ping: PingService }>).services.ping.ping(multiaddr(node.getMultiaddrs()[0].toString()))
    assert.ok(rtt >= 0 && Date.now() - started < 1000, 'the honest peer connects and pings within 1 s')
    await closed
    // the 1 s deadline cut them, not the 10 s default nor the end of the test
    assert.ok(Date.now() - started < 5000, `stalled handshakes cut after ${Date.now() - started} ms`)
    await waitFor(() => rm.system.usage.connsInbound === 1, 5000, 'the stalled handshakes released')
    await honest.hangUp(node.peerId)
    await waitFor(() => rm.system.isEmpty() && rm.transient.isEmpty() && rm.scopeCount === 0, 10_000, 'every scope empty')
  } finally {
    for (const s of sockets) s.destroy()
    await Promise.all([node.stop(), honest.stop()])
  }
})
