/**
 * HTTP over libp2p and `libp2p-PeerID` authentication over plain HTTP against go-libp2p's
 * p2p/http (libp2phttp) and p2p/http/auth (interop/go-peer/http.go, a separate process), in
 * both roles. Skipped without a go toolchain.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from '../../src/index.ts'
import { http, ServerPeerIdAuth, ClientPeerIdAuth, toNodeListener } from '../../src/protocols/http/index.ts'
import { generateKeyPair } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey, peerIdFromString } from '../../src/peer/peer-id.ts'
import { goAvailable, spawnPeer, stopAll, type PeerProcess } from './harness.ts'

const hasGo = await goAvailable()
const skip = hasGo ? false : 'no go toolchain'

const node = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, services: { http: http() } })
node.services.http.handle('/echo', async (req) => new Response(await req.arrayBuffer(), { headers: { 'x-ts-method': req.method } }), { protocol: '/interop/echo/1' })
node.services.http.handle('/hello', () => new Response('hello from ts'), { protocol: '/interop/hello/1' })

const serverKey = await generateKeyPair('Ed25519')
const auth = new ServerPeerIdAuth({ privateKey: serverKey })
const authServer = createServer(toNodeListener(auth.protect((_req, peer) => new Response(peer.toString()))))
await new Promise<void>(resolve => authServer.listen(0, '127.0.0.1', resolve))
const authUrl = `http://127.0.0.1:${(authServer.address() as AddressInfo).port}/private`

let go: PeerProcess | undefined
after(async () => {
  await stopAll()
  authServer.close()
  authServer.closeAllConnections()
  await node.stop()
})
async function goPeer (): Promise<PeerProcess> {
  go ??= await spawnPeer('go', ['--http'], { readyTimeoutMs: 120_000 })
  return go
}
const ourAddr = `${node.getMultiaddrs()[0].toString()}`

test('ts fetches from go over /http/1.1: by path, by protocol id, bodies both ways (Content-Length and chunked)', { skip, timeout: 180_000 }, async () => {
  const peer = await goPeer()
  const goAddr = multiaddr(peer.addrs[0])
  const goId = peerIdFromString(peer.peerId)
  const hello = await node.services.http.fetch(goAddr, { path: '/hello/' })
  assert.equal(hello.status, 200)
  assert.equal(await hello.text(), 'hello from go')
  const map = await node.services.http.getPeerProtocolMap(goId)
  assert.deepEqual(map['/interop/echo/1'], { path: '/echo/' })
  const body = new Uint8Array(2 * 1024 * 1024).map((_, i) => (i * 13) & 0xff)
  const echoed = await node.services.http.fetchProtocol(goId, '/interop/echo/1', '', { method: 'POST', body })
  assert.equal(echoed.status, 200)
  assert.equal(echoed.headers.get('x-go-method'), 'POST')
  assert.deepEqual(new Uint8Array(await echoed.arrayBuffer()), body)
  const streamed = await node.services.http.fetch(goAddr, { path: '/echo/', method: 'PUT', body: new Blob([body]).stream() })
  assert.equal(streamed.headers.get('x-go-method'), 'PUT')
  assert.deepEqual(new Uint8Array(await streamed.arrayBuffer()), body)
  const missing = await node.services.http.fetch(goAddr, { path: '/absent' })
  assert.equal(missing.status, 404)
  await missing.body?.cancel()
})

test('go fetches from ts over /http/1.1: by path and by protocol id through our well-known document', { skip, timeout: 180_000 }, async () => {
  const peer = await goPeer()
  const hello = await peer.commandOk({ cmd: 'http-request', addr: ourAddr, path: '/hello' })
  assert.equal(hello.status, 200)
  assert.equal(hello.body, 'hello from ts')
  const big = 'y'.repeat(500_000)
  const echo = await peer.commandOk({ cmd: 'http-request', addr: ourAddr, path: '/echo', method: 'POST', body: big })
  assert.equal(echo.status, 200)
  assert.equal(echo.body, big)
  assert.equal(echo.headers['x-ts-method'], 'POST')
  const byProtocol = await peer.commandOk({ cmd: 'http-protocol', addr: ourAddr, protocol: '/interop/echo/1', path: '', method: 'PUT', body: 'well-known' })
  assert.equal(byProtocol.status, 200)
  assert.equal(byProtocol.body, 'well-known')
})

test('libp2p-PeerID over plain HTTP: our client against go\'s server, both handshakes and the token', { skip, timeout: 180_000 }, async () => {
  const peer = await goPeer()
  const { authUrl: goAuthUrl } = await peer.commandOk({ cmd: 'http-info' })
  const clientKey = await generateKeyPair('Ed25519')
  for (const serverInitiated of [false, true]) {
    const client = new ClientPeerIdAuth({ privateKey: clientKey })
    const { response, peer: server } = await client.fetch(`${goAuthUrl}/x`, { serverInitiated, expectedPeer: peerIdFromString(peer.peerId) })
    assert.equal(response.status, 200)
    assert.equal(await response.text(), peerIdFromPrivateKey(clientKey).toString(), 'go authenticated us')
    assert.equal(server.toString(), peer.peerId)
    const again = await client.fetch(`${goAuthUrl}/x`)
    assert.equal(again.response.status, 200, 'go accepts its bearer token')
    assert.equal(await again.response.text(), peerIdFromPrivateKey(clientKey).toString())
  }
})

test('libp2p-PeerID over plain HTTP: go\'s client against our server, handshake and token', { skip, timeout: 180_000 }, async () => {
  const peer = await goPeer()
  const result = await peer.commandOk({ cmd: 'http-auth', url: authUrl })
  assert.equal(result.status, 200)
  assert.equal(result.peer, peerIdFromPrivateKey(serverKey).toString(), 'go authenticated our server')
  assert.equal(result.body, result.clientPeer, 'we authenticated go\'s client')
  assert.equal(result.bearerStatus, 200)
  assert.equal(result.bearerBody, result.clientPeer)
  assert.equal(result.hasToken, true)
})
