/**
 * Multi-tenancy and isolation (docs/daemon/multi-tenancy.md): one daemon hosts two
 * applications, alice and a hostile mallory running as another user (uid 65534). Mallory cannot
 * open alice's or the operator's control socket, and through its own sees none of alice's
 * connections, peers, topics or streams; a handler it registers for alice's protocol receives
 * none of alice's streams.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { createLibp2p } from '../../src/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { MemoryDatastore } from '../../src/store/memory.ts'
import { DaemonClient } from '../../src/daemon/client.ts'
import { parseApps } from '../../src/cli/daemon-apps.ts'
import { startCli } from './run-cli.ts'

const NOBODY = 65534

test('-apps: names and uids parsed, bad ones refused', () => {
  assert.deepEqual(parseApps('alice, bob:1001'), [{ name: 'alice' }, { name: 'bob', uid: 1001 }])
  assert.throws(() => parseApps('a/b'), /not NAME or NAME:UID/)
  assert.throws(() => parseApps('a:x'), /not a number/)
  assert.throws(() => parseApps('a,a'), /named twice/)
})

test('two applications in one daemon: own identities and sockets; a hostile one sees and steals nothing of the other', { skip: process.getuid?.() !== 0 ? 'needs root to run the hostile application as another user' : false }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'daemon-apps-'))
  // searchable by everyone: only the sockets' own permissions keep mallory out
  await chmod(dir, 0o755)
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const operatorSock = join(dir, 'op.sock')
  const appsDir = join(dir, 'apps')
  const daemon = startCli(['daemon', '-listen', `/unix${operatorSock}`, '-hostAddrs', '/ip4/127.0.0.1/tcp/0', '-dataDir', join(dir, 'data'),
    '-pubsub', '-apps', `alice,mallory:${NOBODY}`, '-appsDir', appsDir])
  t.after(async () => { await daemon.stop('SIGTERM') })
  const operatorLine = await daemon.nextLine('stdout', l => l.startsWith('Peer ID: '))
  const aliceLine = await daemon.nextLine('stdout', l => l.startsWith('App alice: '))
  const malloryLine = await daemon.nextLine('stdout', l => l.startsWith('App mallory: '))
  const [, , aliceControl, alicePeer] = aliceLine.split(' ')
  const [, , malloryControl, malloryPeer] = malloryLine.split(' ')
  assert.equal(aliceControl, `/unix${join(appsDir, 'alice.sock')}`)
  assert.notEqual(alicePeer, malloryPeer)
  assert.notEqual(`Peer ID: ${alicePeer}`, operatorLine, 'each application is its own identity')
  assert.equal((await stat(join(appsDir, 'mallory.sock'))).uid, NOBODY)
  assert.equal((await stat(join(appsDir, 'alice.sock'))).mode & 0o777, 0o600)

  // alice: a connection to a peer of hers, a handler for her protocol, a topic
  const victim = await createLibp2p({ datastore: new MemoryDatastore(), addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
  const alice = new DaemonClient(aliceControl)
  const controller = new AbortController()
  t.after(async () => { controller.abort(); await alice.close(); await victim.stop() })
  assert.equal((await alice.identify()).id.toString(), alicePeer)
  await alice.connect(victim.peerId, victim.getMultiaddrs())
  let aliceStreams = 0
  let aliceGotOne = (): void => {}
  const aliceGotStream = new Promise<void>(resolve => { aliceGotOne = resolve })
  await alice.registerStreamHandler(['/secret/1.0.0'], (stream, info) => {
    aliceStreams++
    assert.ok(info.peer.equals(victim.peerId))
    stream.close().catch(() => {})
    aliceGotOne()
  })
  const subscription = alice.pubsubSubscribe('alice-topic', controller.signal)
  const subscribed = subscription.next().catch(() => undefined)
  void subscribed
  // the subscription is made when the daemon reads the request: ask until alice's node has it
  for (let i = 0; !(await alice.pubsubGetTopics()).includes('alice-topic'); i++) assert.ok(i < 1000, 'alice never subscribed')

  const hostile = spawn(process.execPath, [join(import.meta.dirname, 'hostile-app.ts'), join(appsDir, 'alice.sock'), operatorSock, malloryControl.slice('/unix'.length),
    alicePeer, victim.peerId.toString(), '/secret/1.0.0'], { uid: NOBODY, gid: NOBODY, stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } })
  t.after(() => { hostile.kill('SIGKILL') })
  let stderr = ''
  hostile.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const lines = createInterface({ input: hostile.stdout })
  const readLine = async (): Promise<Record<string, unknown>> => await new Promise((resolve, reject) => {
    lines.once('line', (l) => { resolve(JSON.parse(l) as Record<string, unknown>) })
    hostile.once('exit', (code) => { reject(new Error(`the hostile application exited (${code}): ${stderr}`)) })
  })
  const seen = await readLine()
  assert.equal(seen.uid, NOBODY)
  assert.equal(seen.aliceSocket, 'EACCES', 'alice\'s control socket is closed to mallory')
  assert.equal(seen.operatorSocket, 'EACCES', 'so is the operator\'s')
  assert.equal(seen.ownPeer, malloryPeer)
  assert.deepEqual(seen.peers, [], 'alice\'s connection is not in mallory\'s LIST_PEERS')
  assert.deepEqual(seen.topics, [], 'alice\'s subscription is not in mallory\'s topics')
  assert.match(String(seen.victimProtocols), /^error/, 'alice\'s peer is unknown to mallory\'s peer store')

  // the victim opens alice's protocol on alice: it reaches alice's handler, not mallory's
  await victim.peerStore.merge((await alice.identify()).id, { multiaddrs: (await alice.identify()).addrs })
  const stream = await victim.dialProtocol((await alice.identify()).id, '/secret/1.0.0')
  await stream.close()
  await aliceGotStream
  assert.equal(aliceStreams, 1)
  hostile.stdin.write('report\n')
  assert.deepEqual(await readLine(), { stolen: 0 })
  await new Promise(resolve => hostile.once('exit', resolve))
})
