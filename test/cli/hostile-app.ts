/**
 * The hostile application of test/cli/daemon-apps.test.ts, run as another user (uid 65534):
 * it tries to reach the other application's and the operator's control sockets, then uses its
 * own to look for the other application's connections, peers, topics and streams. Prints one
 * JSON object with what it saw.
 */
import { connect } from 'node:net'
import { DaemonClient } from '../../src/daemon/client.ts'
import { peerIdFromString } from '../../src/peer/peer-id.ts'
import { PeerstoreRequestType, RequestType } from '../../src/daemon/messages.ts'

const [aliceSock, operatorSock, ownSock, alicePeer, victimPeer, protocol] = process.argv.slice(2)

async function tryConnect (path: string): Promise<string> {
  return await new Promise<string>((resolve) => {
    const socket = connect({ path })
    socket.once('connect', () => { socket.destroy(); resolve('connected') })
    socket.once('error', (err: NodeJS.ErrnoException) => { resolve(err.code ?? err.message) })
  })
}

const own = new DaemonClient(`/unix${ownSock}`)
const result: Record<string, unknown> = {
  uid: process.getuid?.(),
  aliceSocket: await tryConnect(aliceSock),
  operatorSocket: await tryConnect(operatorSock)
}
const id = await own.identify()
result.ownPeer = id.id.toString()
result.peers = (await own.listPeers()).map(p => p.id.toString())
result.topics = await own.pubsubGetTopics()
// the peer store: does it know the peer only alice talked to?
result.victimProtocols = await peerStoreProtocols(own, victimPeer)
// a handler for alice's protocol on its own node: alice's inbound streams must not come here
let stolen = 0
await own.registerStreamHandler([protocol], (stream) => { stolen++; stream.abort(new Error('hostile')) })
result.stolenBeforeExit = stolen
result.alicePeerIsOwn = alicePeer === result.ownPeer
process.stdout.write(JSON.stringify(result) + '\n')
// stay up (handler registered) until the test says stop on stdin, then report what was stolen
process.stdin.once('data', () => {
  process.stdout.write(JSON.stringify({ stolen }) + '\n')
  own.close().finally(() => process.exit(0))
})

async function peerStoreProtocols (client: DaemonClient, peer: string): Promise<string> {
  const { encodeRequest, decodeResponse } = await import('../../src/daemon/messages.ts')
  const { encodeLP, StreamReader } = await import('../../src/util/stream-reader.ts')
  const { dialLocal } = await import('../../src/daemon/local-socket.ts')
  const control = await dialLocal(client.controlAddr)
  await control.write(encodeLP(encodeRequest({ type: RequestType.PEERSTORE, peerStore: { type: PeerstoreRequestType.GET_PROTOCOLS, id: peerIdFromString(peer).bytes, protos: [] } })))
  const bytes = await new StreamReader(control).readLP({ maxLength: 1 << 20 })
  control.abort(new Error('done'))
  if (bytes === null) return 'closed'
  const r = decodeResponse(bytes)
  return r.error !== undefined ? `error: ${r.error.msg}` : `protocols: ${(r.peerStore?.protos ?? []).join(',')}`
}
