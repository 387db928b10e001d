/**
 * A js-libp2p node with @libp2p/http and @libp2p/fetch, plus a plain node:http server guarded
 * by @libp2p/http-peer-id-auth, for test/interop/http-js.test.ts. On start it serves:
 *   - over libp2p (`/http/1.1`): POST /echo (the body back; protocol `/interop/echo/1` in the
 *     well-known document), GET /hello, and GET /auth behind libp2p-PeerID authentication
 *     (authenticatedRoute; the body is the authenticated client's peer id);
 *   - fetch (`/libp2p/fetch/0.0.1`): keys under `/interop/` answer `js:<key>`, others NOT_FOUND;
 *   - plain HTTP on 127.0.0.1: any path, `libp2p-PeerID` authentication, the body is the
 *     client's peer id.
 * It prints {"event":"ready","peerId","addrs","authUrl"} and then answers JSON-line commands
 * on stdin, one reply line each ({"id","ok",...}):
 *   {"cmd":"http","addr","path","method","body"}        -> status, body, headers
 *   {"cmd":"http-protocol","addr","protocol","path"}    -> status, body
 *   {"cmd":"fetch","addr","key"}                         -> value | null, or error
 *   {"cmd":"auth","url","serverInitiated"}               -> peer, status, body (plain HTTP)
 * Runs until stdin closes or SIGTERM.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createInterface } from 'node:readline'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { http, authenticatedRoute } from '@libp2p/http'
import { fetch as fetchService } from '@libp2p/fetch'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { ClientInitiatedHandshake, ServerInitiatedHandshake, createServerChallenge, serverResponds } from '@libp2p/http-peer-id-auth'
import { multiaddr } from '@multiformats/multiaddr'

const line = (v: object): void => { process.stdout.write(JSON.stringify(v) + '\n') }

const node = await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: { identify: identify(), http: http(), fetch: fetchService() }
})

node.services.http.handle('/interop/echo/1', {
  path: '/echo',
  method: ['GET', 'POST', 'PUT'],
  handler: async (req: Request) => new Response(await req.arrayBuffer(), { headers: { 'x-js-method': req.method } })
})
node.services.http.handle('/interop/hello/1', { path: '/hello', handler: async () => new Response('hello from js') })
// libp2p-PeerID over a libp2p stream too: the body names the client peer it authenticated
node.services.http.handle('/interop/auth/1', authenticatedRoute({ path: '/auth', method: ['GET', 'OPTIONS'], handler: async (_req: Request, peer: { toString(): string }) => new Response(peer.toString()) }))
node.services.fetch.registerLookupFunction('/interop/', async (key: Uint8Array) => new TextEncoder().encode(`js:${new TextDecoder().decode(key)}`))

// plain HTTP with peer-id auth, server role (js's own server functions)
const authKey = await generateKeyPair('Ed25519')
const authServer = createServer((req, res) => {
  void (async () => {
    const hostname = req.headers.host ?? ''
    const authorization = req.headers.authorization
    if (authorization === undefined) {
      res.writeHead(401, { 'www-authenticate': await createServerChallenge(hostname, authKey) }).end()
      return
    }
    try {
      const result = await serverResponds(authorization, hostname, authKey)
      if (result.authenticate !== undefined) {
        res.writeHead(401, { 'www-authenticate': result.authenticate }).end()
        return
      }
      const headers: Record<string, string> = {}
      if (result.info !== undefined) headers['authentication-info'] = result.info
      res.writeHead(200, headers).end(result.peerId.toString())
    } catch (err) {
      res.writeHead(401, { 'www-authenticate': await createServerChallenge(hostname, authKey) }).end(String((err as Error).message))
    }
  })()
})
await new Promise<void>(resolve => authServer.listen(0, '127.0.0.1', resolve))
const authUrl = `http://127.0.0.1:${(authServer.address() as AddressInfo).port}`

async function command (msg: Record<string, any>): Promise<object> {
  switch (msg.cmd) {
    case 'http': {
      const init: { method: string, body?: string } = { method: msg.method ?? 'GET' }
      if (msg.body !== undefined) init.body = msg.body
      const res = await node.services.http.fetch(multiaddr(`${msg.addr}/http-path/${encodeURIComponent(String(msg.path).replace(/^\//, ''))}`), init)
      const headers: Record<string, string> = {}
      res.headers.forEach((v, k) => { headers[k] = v })
      return { status: res.status, body: await res.text(), headers }
    }
    case 'http-protocol': {
      const res = await node.services.http.fetchProtocol(multiaddr(msg.addr), msg.protocol, { method: msg.method ?? 'GET', body: msg.body })
      return { status: res.status, body: await res.text() }
    }
    case 'fetch': {
      try {
        const value = await node.services.fetch.fetch(multiaddr(msg.addr), msg.key)
        return { value: value === undefined ? null : new TextDecoder().decode(value) }
      } catch (err) {
        return { value: null, error: (err as Error).message }
      }
    }
    case 'auth': {
      const key = await generateKeyPair('Ed25519')
      const url = new URL(msg.url)
      if (msg.serverInitiated === true) {
        const handshake = new ServerInitiatedHandshake(key, url.host)
        const challenge = await globalThis.fetch(url)
        await challenge.arrayBuffer()
        const authorization = await handshake.answerServerChallenge(challenge.headers.get('www-authenticate') ?? '')
        const res = await globalThis.fetch(url, { headers: { authorization } })
        await handshake.decodeBearerToken(res.headers.get('authentication-info') ?? '')
        return { peer: handshake.serverId?.toString(), status: res.status, body: await res.text(), clientPeer: (await import('@libp2p/peer-id')).peerIdFromPrivateKey(key).toString(), bearer: handshake.bearer }
      }
      const handshake = new ClientInitiatedHandshake(key, url.host)
      const challenge = await globalThis.fetch(url, { headers: { authorization: handshake.getChallenge() } })
      await challenge.arrayBuffer()
      const authorization = await handshake.verifyServer(challenge.headers.get('www-authenticate') ?? '')
      const res = await globalThis.fetch(url, { headers: { authorization } })
      // (js returns the whole Authorization value that carries the token)
      const bearerAuthorization = handshake.decodeBearerToken(res.headers.get('authentication-info') ?? '')
      const body = await res.text()
      // the bearer token alone authenticates the next request
      const again = await globalThis.fetch(url, { headers: { authorization: bearerAuthorization } })
      return { peer: handshake.serverId?.toString(), status: res.status, body, clientPeer: (await import('@libp2p/peer-id')).peerIdFromPrivateKey(key).toString(), bearerStatus: again.status, bearerBody: await again.text() }
    }
    default:
      throw new Error(`unknown command ${String(msg.cmd)}`)
  }
}

line({ event: 'ready', peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map(String), authUrl })

const stop = async (): Promise<void> => {
  authServer.close()
  authServer.closeAllConnections()
  await node.stop()
  process.exit(0)
}
process.on('SIGTERM', () => { void stop() })
const input = createInterface({ input: process.stdin })
input.on('line', (text) => {
  let msg: Record<string, any>
  try { msg = JSON.parse(text) } catch { return }
  command(msg).then(
    (result) => { line({ id: msg.id, ok: true, ...result }) },
    (err: Error) => { line({ id: msg.id, ok: false, error: err.message }) }
  )
})
input.on('close', () => { void stop() })
