/**
 * HTTP over libp2p, the fetch protocol and `libp2p-PeerID` authentication over plain HTTP
 * against js-libp2p (@libp2p/http, @libp2p/fetch, @libp2p/http-peer-id-auth in
 * interop/js-peer/http-peer.ts, a separate process), in both roles.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from '../../src/index.ts'
import { http, ServerPeerIdAuth, ClientPeerIdAuth, toNodeListener } from '../../src/protocols/http/index.ts'
import { fetch } from '../../src/protocols/fetch/index.ts'
import { generateKeyPair } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey, peerIdFromString } from '../../src/peer/peer-id.ts'
import { spawnLinePeer } from '../support/line-peer.ts'
import { REPO_ROOT } from './harness.ts'

const dec = (b: Uint8Array | undefined): string | undefined => b === undefined ? undefined : new TextDecoder().decode(b)

const node = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, services: { http: http(), fetch: fetch() } })
node.services.http.handle('/echo', async (req) => new Response(await req.arrayBuffer(), { headers: { 'x-ts-method': req.method } }), { protocol: '/interop/echo/1' })
node.services.http.handle('/hello', () => new Response('hello from ts'), { protocol: '/interop/hello/1' })
node.services.fetch.registerLookupFunction('/interop/', (key) => new TextEncoder().encode(`ts:${dec(key)}`))

const serverKey = await generateKeyPair('Ed25519')
const auth = new ServerPeerIdAuth({ privateKey: serverKey })
const authServer = createServer(toNodeListener(auth.protect((_req, peer) => new Response(peer.toString()))))
await new Promise<void>(resolve => authServer.listen(0, '127.0.0.1', resolve))
const authUrl = `http://127.0.0.1:${(authServer.address() as AddressInfo).port}/private`

const js = await spawnLinePeer(process.execPath, [join(REPO_ROOT, 'interop', 'js-peer', 'http-peer.ts')])
after(async () => {
  await js.stop()
  authServer.close()
  authServer.closeAllConnections()
  await node.stop()
})
const jsAddr = multiaddr(js.ready.addrs[0])
const jsPeer = peerIdFromString(js.ready.peerId)
const ourAddr = node.getMultiaddrs()[0].toString()

// Request bodies sent to js's server arrive short or empty: @libp2p/http(-utils) 2.0.6 bugs,
// written up for upstream in docs/upstream/js-libp2p-http-request-body.md. This test asserts
// that known behaviour, so that it fails (and is turned into a plain echo check) once a fixed
// release is installed. js -> ts requests with bodies are tested below and arrive whole.
test('ts POSTs bodies to js\'s server: js 2.0.6 drops the bytes read with the head and every chunked body', async () => {
  // Content-Length framing, the body written right behind the head: js's header parser goes on
  // parsing the body bytes it was handed with the head and discards them, then the handler's
  // body ends short when we close our write side (this one is lost whole)
  const sized = new TextEncoder().encode('ten bytes!')
  const echo = await node.services.http.fetch(jsAddr, { path: '/echo', method: 'POST', body: sized, signal: AbortSignal.timeout(20_000) })
  assert.equal(echo.status, 200)
  const echoed = new Uint8Array(await echo.arrayBuffer())
  assert.ok(echoed.length < sized.length, `js echoed ${echoed.length} of ${sized.length} bytes: the upstream bug is fixed, assert the whole echo here`)
  // chunked framing (a streamed body of unknown length): js's body reader ends at once when
  // there is no Content-Length, whenever the bytes arrive
  const chunked = new Blob(['streamed ', 'body']).stream()
  const streamed = await node.services.http.fetch(jsAddr, { path: '/echo', method: 'POST', body: chunked, signal: AbortSignal.timeout(20_000) })
  assert.equal(streamed.status, 200)
  assert.equal((await streamed.arrayBuffer()).byteLength, 0, 'js now reads chunked request bodies: the upstream bug is fixed, assert the echo here')
})

test('ts fetches from js over /http/1.1: by path and by protocol id through the well-known document', async () => {
  const hello = await node.services.http.fetch(jsAddr, { path: '/hello' })
  assert.equal(hello.status, 200)
  assert.equal(await hello.text(), 'hello from js')
  const map = await node.services.http.getPeerProtocolMap(jsPeer)
  assert.deepEqual(map['/interop/echo/1'], { path: '/echo' })
  assert.deepEqual(map['/interop/hello/1'], { path: '/hello' })
  const byProtocol = await node.services.http.fetchProtocol(jsPeer, '/interop/hello/1')
  assert.equal(await byProtocol.text(), 'hello from js')
  const wrongMethod = await node.services.http.fetch(jsAddr, { path: '/hello', method: 'DELETE' })
  assert.equal(wrongMethod.status, 405)
  await wrongMethod.body?.cancel()
})

test('js fetches from ts over /http/1.1: by path and by protocol id', async () => {
  const hello = await js.command({ cmd: 'http', addr: ourAddr, path: '/hello' })
  assert.equal(hello.ok, true, hello.error)
  assert.equal(hello.status, 200)
  assert.equal(hello.body, 'hello from ts')
  const big = 'x'.repeat(300_000)
  const echo = await js.command({ cmd: 'http', addr: ourAddr, path: '/echo', method: 'POST', body: big })
  assert.equal(echo.status, 200)
  assert.equal(echo.body, big)
  assert.equal(echo.headers['x-ts-method'], 'POST')
  const byProtocol = await js.command({ cmd: 'http-protocol', addr: ourAddr, protocol: '/interop/echo/1', method: 'POST', body: 'well-known' })
  assert.equal(byProtocol.ok, true, byProtocol.error)
  assert.equal(byProtocol.body, 'well-known')
  const missing = await js.command({ cmd: 'http', addr: ourAddr, path: '/absent' })
  assert.equal(missing.status, 404)
})

test('fetch protocol both ways with js', async () => {
  assert.equal(dec(await node.services.fetch.fetch(jsAddr, '/interop/key-1')), 'js:/interop/key-1')
  // js answers a key under no registered prefix with ERROR (we answer NOT_FOUND, as the spec says)
  await assert.rejects(node.services.fetch.fetch(jsAddr, '/elsewhere/key'), { name: 'FetchRemoteError', message: /No lookup function/ })
  const found = await js.command({ cmd: 'fetch', addr: ourAddr, key: '/interop/key-2' })
  assert.equal(found.value, 'ts:/interop/key-2', found.error)
  const missing = await js.command({ cmd: 'fetch', addr: ourAddr, key: '/nothing' })
  assert.equal(missing.value, null)
  assert.equal(missing.error, undefined)
})

test('libp2p-PeerID over plain HTTP: our client against js\'s server, both handshakes', async () => {
  const clientKey = await generateKeyPair('Ed25519')
  for (const serverInitiated of [false, true]) {
    const client = new ClientPeerIdAuth({ privateKey: clientKey })
    const { response, peer } = await client.fetch(js.ready.authUrl, { serverInitiated })
    assert.equal(response.status, 200)
    // js's server names the peer it authenticated: us
    assert.equal(await response.text(), peerIdFromPrivateKey(clientKey).toString())
    assert.ok(peer.toString().startsWith('12D3KooW'))
    assert.ok(client.token(new URL(js.ready.authUrl).host) !== undefined, 'js issued a bearer token')
    // and js accepts its token from us
    const again = await client.fetch(js.ready.authUrl)
    assert.equal(again.response.status, 200)
    assert.equal(await again.response.text(), peerIdFromPrivateKey(clientKey).toString())
  }
})

test('libp2p-PeerID over plain HTTP: js\'s client against our server, both handshakes and the bearer token', async () => {
  for (const serverInitiated of [false, true]) {
    const result = await js.command({ cmd: 'auth', url: authUrl, serverInitiated })
    assert.equal(result.ok, true, result.error)
    assert.equal(result.status, 200)
    assert.equal(result.peer, peerIdFromPrivateKey(serverKey).toString(), 'js authenticated our server')
    assert.equal(result.body, result.clientPeer, 'we authenticated js\'s client')
    if (!serverInitiated) {
      assert.equal(result.bearerStatus, 200)
      assert.equal(result.bearerBody, result.clientPeer)
    }
  }
})

// (The other way round is not tested: js's peerIdAuth middleware signs the hostname
// `<base36 peer id>:<port of the dialed multiaddr>` but sends `Host: <base36 peer id>`, so a
// server that checks the signature against the Host field it received refuses it.)
test('libp2p-PeerID over a libp2p stream: our client against js\'s authenticatedRoute', async () => {
  const clientKey = await generateKeyPair('Ed25519')
  const client = new ClientPeerIdAuth({ privateKey: clientKey })
  // requests go over /http/1.1 to the js peer; the hostname both sign is its peer id (the Host we send)
  const overStream = async (input: string | URL | Request, init?: RequestInit): Promise<Response> =>
    await node.services.http.fetch(jsAddr, { ...init, signal: init?.signal ?? undefined, path: new URL(input instanceof Request ? input.url : input).pathname })
  const { response, peer } = await client.fetch(`http://${jsPeer.toString()}/auth`, { fetch: overStream })
  assert.equal(response.status, 200)
  assert.equal(await response.text(), peerIdFromPrivateKey(clientKey).toString(), 'js authenticated us')
  assert.ok(peer.equals(jsPeer), 'the js node proved its own peer id')
})
