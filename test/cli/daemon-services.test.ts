/**
 * The daemon's p2pd flags that switch services on, each shown acting (on loopback; the port
 * mapping against a real router is in daemon-nat-lab.test.ts, both flags behind a NAT in
 * daemon-reachability-lab.test.ts):
 * - `-autoRelay` (with `-forceReachabilityPrivate`, so it does not wait for AutoNAT's verdict):
 *   the daemon reserves on a relay it is connected to, its IDENTIFY answer lists the circuit
 *   address, and a third daemon opens a stream to it through the relay;
 * - `-autonat`: the daemon serves AutoNAT v1 and v2, and answers a v1 dial request (refusing a
 *   loopback address, which is not public); without the flag neither protocol is served.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { startDaemon, type RunningDaemon } from '../../src/cli/commands/daemon.ts'
import { DaemonClient } from '../../src/daemon/client.ts'
import { createLibp2p } from '../../src/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { MemoryDatastore } from '../../src/store/memory.ts'
import { StreamReader, encodeLP } from '../../src/util/stream-reader.ts'
import { AUTONAT_V1_PROTOCOL, DIAL_REQUEST_PROTOCOL } from '../../src/protocols/autonat/index.ts'
import { decodeV1Message, encodeV1Message, MessageType, V1Status, V1_MAX_MESSAGE_SIZE } from '../../src/protocols/autonat/v1-messages.ts'
import { isRelayed } from '../../src/util/multiaddr.ts'
import type { RelayReservationEvent } from '../../src/interface/events.ts'
import type { ByteStream } from '../../src/interface/stream.ts'

async function daemon (t: { after: (fn: () => Promise<void>) => void }, dir: string, name: string, flags: string[]): Promise<RunningDaemon & { client: DaemonClient }> {
  const d = await startDaemon(['-listen', '/ip4/127.0.0.1/tcp/0', '-hostAddrs', '/ip4/127.0.0.1/tcp/0', '-dataDir', join(dir, name), '-tls=false', '-plaintext=false', ...flags], () => {})
  const client = new DaemonClient(d.server.listenAddr)
  t.after(async () => { await client.close(); await d.stop() })
  return { ...d, client }
}

async function readAll (stream: ByteStream): Promise<string> {
  const parts: Uint8Array[] = []
  for await (const chunk of stream) parts.push(chunk.slice())
  return Buffer.concat(parts).toString()
}

test('-autoRelay -forceReachabilityPrivate: reserves on a connected relay, IDENTIFY lists the circuit address, a stream reaches it through the relay', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'daemon-autorelay-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const relay = await daemon(t, dir, 'relay', []) // -relay is on by default, as in p2pd
  const behind = await daemon(t, dir, 'behind', ['-autoRelay', '-forceReachabilityPrivate'])
  const dialer = await daemon(t, dir, 'dialer', [])

  const reserved = new Promise<RelayReservationEvent>((resolve) => {
    const onReservation = (evt: CustomEvent<RelayReservationEvent>): void => {
      if (evt.detail.status !== 'reserved') return
      behind.node.removeEventListener('relay:reservation', onReservation)
      resolve(evt.detail)
    }
    behind.node.addEventListener('relay:reservation', onReservation)
  })
  const relayId = await relay.client.identify()
  await behind.client.connect(relayId.id, relayId.addrs)
  const reservation = await reserved
  assert.ok(reservation.relay.equals(relay.node.peerId), 'reserved on the relay it met')

  const behindId = await behind.client.identify()
  const circuit = behindId.addrs.find(a => isRelayed(a) && a.toString().includes(`/p2p/${relayId.id.toString()}/p2p-circuit`))
  assert.ok(circuit !== undefined, `IDENTIFY lists a circuit address: ${behindId.addrs.map(String).join(' ')}`)

  await behind.client.registerStreamHandler(['/upper/1.0.0'], (stream) => {
    readAll(stream).then(async (text) => {
      await stream.write(new TextEncoder().encode(text.toUpperCase()))
      await stream.closeWrite()
    }).catch((err: Error) => { stream.abort(err) })
  })
  // only the circuit address: the dialer cannot use the direct one
  await dialer.client.connect(behindId.id, [circuit])
  const peers = await dialer.client.listPeers()
  assert.ok(peers.some(p => p.id.equals(behindId.id) && p.addrs.some(isRelayed)), 'connected through the relay')
  const { stream } = await dialer.client.openStream(behindId.id, ['/upper/1.0.0'])
  await stream.write(new TextEncoder().encode('through the relay'))
  await stream.closeWrite()
  assert.equal(await readAll(stream), 'THROUGH THE RELAY')
})

test('-autonat: AutoNAT v1 and v2 are served and a v1 dial request is answered; without the flag neither is served', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'daemon-autonat-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const server = await daemon(t, dir, 'server', ['-autonat'])
  const plain = await daemon(t, dir, 'plain', [])
  assert.ok(server.node.getProtocols().includes(AUTONAT_V1_PROTOCOL))
  assert.ok(server.node.getProtocols().includes(DIAL_REQUEST_PROTOCOL))
  assert.ok(!plain.node.getProtocols().includes(AUTONAT_V1_PROTOCOL))
  assert.ok(!plain.node.getProtocols().includes(DIAL_REQUEST_PROTOCOL))

  const asker = await createLibp2p({ datastore: new MemoryDatastore(), addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
  t.after(async () => { await asker.stop() })
  const serverId = await server.client.identify()
  const stream = await asker.dialProtocol(serverId.addrs[0].encapsulate(`/p2p/${serverId.id.toString()}`), AUTONAT_V1_PROTOCOL)
  await stream.write(encodeLP(encodeV1Message({ type: MessageType.DIAL, dial: { peerId: asker.peerId.bytes, addrs: [multiaddr('/ip4/127.0.0.1/tcp/4001').bytes] } })))
  const frame = await new StreamReader(stream).readLP({ maxLength: V1_MAX_MESSAGE_SIZE })
  assert.ok(frame !== null)
  const answer = decodeV1Message(frame)
  assert.equal(answer.type, MessageType.DIAL_RESPONSE)
  assert.equal(answer.dialResponse?.status, V1Status.E_DIAL_REFUSED, 'a loopback address is not dialed back')
  assert.match(answer.dialResponse?.statusText ?? '', /no dialable addresses/)
})
