/**
 * The `libp2p-PeerID` HTTP authentication scheme: the spec's test vectors (signing example and
 * the signatures of both worked handshakes), both handshakes and the bearer token between our
 * client (fetch) and our server (node:http on loopback), and the failures: forged opaque
 * values, wrong signatures, another hostname, expired tokens, an impostor server.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { generateKeyPair, privateKeyFromProtobuf, publicKeyToProtobuf } from '../../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../../src/peer/peer-id.ts'
import { fromHex, toHex } from '../../../src/util/bytes.ts'
import {
  base64UrlDecode, base64UrlEncode, dataToSign, formatAuthParams, parseAuthParams, PeerIdAuthError, seal, unseal
} from '../../../src/protocols/http/auth-params.ts'
import { ServerPeerIdAuth } from '../../../src/protocols/http/peer-id-auth.ts'
import { ClientPeerIdAuth } from '../../../src/protocols/http/peer-id-auth-client.ts'
import { toNodeListener } from '../../../src/protocols/http/node-listener.ts'

// peer-id-auth.md, "Signing Example" and the two complete handshakes
const SERVER_KEY = privateKeyFromProtobuf(fromHex('0801124001010101010101010101010101010101010101010101010101010101010101018a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c'))
const CLIENT_KEY = privateKeyFromProtobuf(fromHex('0801124002020202020202020202020202020202020202020202020202020202020202028139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394'))
const CHALLENGE_CLIENT = 'ERERERERERERERERERERERERERERERERERERERERERE='
const CHALLENGE_SERVER = 'MzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMz'

test('the spec\'s signing example: data to sign and signature', async () => {
  const data = dataToSign([['hostname', 'example.com'], ['client-public-key', fromHex('080112208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394')], ['challenge-server', CHALLENGE_CLIENT]])
  assert.equal(toHex(data), '6c69627032702d5065657249443d6368616c6c656e67652d7365727665723d455245524552455245524552455245524552455245524552455245524552455245524552455245524552453d36636c69656e742d7075626c69632d6b65793d080112208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b39414686f73746e616d653d6578616d706c652e636f6d')
  assert.equal(base64UrlEncode(await SERVER_KEY.sign(data)), 'UA88qZbLUzmAxrD9KECbDCgSKAUBAvBHrOCF2X0uPLR1uUCF7qGfLPc7dw3Olo-LaFCDpk5sXN7TkLWPVvuXAA==')
})

test('the spec\'s complete handshakes: public keys and every signature, computed by our server and client', async () => {
  assert.equal(base64UrlEncode(publicKeyToProtobuf(SERVER_KEY.publicKey)), 'CAESIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29c')
  assert.equal(base64UrlEncode(publicKeyToProtobuf(CLIENT_KEY.publicKey)), 'CAESIIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOU')
  const host = 'example.com'
  // a fake fetch that plays our server, recording what goes over the wire
  const server = new ServerPeerIdAuth({ privateKey: SERVER_KEY, hmacKey: new Uint8Array(32), now: () => 0, makeChallenge: () => CHALLENGE_CLIENT })
  const wire: Array<{ authorization: string | null, status: number, wwwAuthenticate: string | null, authenticationInfo: string | null }> = []
  const serve = server.protect(() => new Response('ok'))
  const fakeFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await serve(new Request(input, init))
    wire.push({ authorization: new Headers(init?.headers).get('authorization'), status: response.status, wwwAuthenticate: response.headers.get('www-authenticate'), authenticationInfo: response.headers.get('authentication-info') })
    return response
  }
  const client = new ClientPeerIdAuth({ privateKey: CLIENT_KEY, makeChallenge: () => CHALLENGE_SERVER })

  // client-initiated: the server's sig (HQ7B...) in its 401, the client's (OrwJ...) in the next request
  const first = await client.fetch('http://example.com/x', { fetch: fakeFetch, expectedPeer: peerIdFromPrivateKey(SERVER_KEY) })
  assert.equal(await first.response.text(), 'ok')
  assert.equal(first.peer.toString(), peerIdFromPrivateKey(SERVER_KEY).toString())
  assert.equal(parseAuthParams(wire[0].wwwAuthenticate)?.sig, 'HQ7BJRaSpRhNCORNiALNJENdwXUyq0eM2cxNoxe-XnQw6oEAMaeYnjMYaHHjgq0XNxZmy4W2ngKUcI1CgprLCQ==')
  assert.equal(parseAuthParams(wire[1].authorization)?.sig, 'OrwJPO4buHKJdKXP2av8PFwv3XF_-m5MqndskeVV5UzufYzBCTm7RBaFnBS1sEhuQHZSZPh9RJgN5NmLzrUrBQ==')
  assert.ok(client.token(host) !== undefined)

  // server-initiated: without the server's key the client signs challenge-client and hostname
  // only (5RT0...: the example's value); the server's sig is HQ7B... again
  client.forget()
  wire.length = 0
  const withoutKey = new ServerPeerIdAuth({ privateKey: SERVER_KEY, hmacKey: new Uint8Array(32), now: () => 0, makeChallenge: () => CHALLENGE_CLIENT })
  const stripKey = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await withoutKey.protect(() => new Response('ok'))(new Request(input, init))
    const header = response.headers.get('www-authenticate')
    if (header === null) {
      wire.push({ authorization: new Headers(init?.headers).get('authorization'), status: response.status, wwwAuthenticate: null, authenticationInfo: response.headers.get('authentication-info') })
      return response
    }
    const params = parseAuthParams(header)!
    delete params['public-key']
    wire.push({ authorization: new Headers(init?.headers).get('authorization'), status: 401, wwwAuthenticate: formatAuthParams(params), authenticationInfo: null })
    return new Response(null, { status: 401, headers: { 'www-authenticate': formatAuthParams(params) } })
  }
  const second = await client.fetch('http://example.com/x', { fetch: stripKey, serverInitiated: true })
  assert.equal(second.response.status, 200)
  assert.equal(parseAuthParams(wire[1].authorization)?.sig, '5RT0BbFdn-hMgE4pQ_GH9tnlKpptGUQZvkh8kVLbwy81Rzli_vfiNOsuGTcMk8lyUfkmTFmk79b5XUZCR3-RBw==')
  assert.equal(parseAuthParams(wire[1].authenticationInfo)?.sig, 'HQ7BJRaSpRhNCORNiALNJENdwXUyq0eM2cxNoxe-XnQw6oEAMaeYnjMYaHHjgq0XNxZmy4W2ngKUcI1CgprLCQ==')
})

test('auth params: parse what go and js send, refuse what is malformed', () => {
  assert.deepEqual(parseAuthParams('libp2p-PeerID sig="a" bearer="b=="'), { sig: 'a', bearer: 'b==' })
  assert.deepEqual(parseAuthParams('libp2p-PeerID challenge-client="x", public-key="y", opaque="z"'), { 'challenge-client': 'x', 'public-key': 'y', opaque: 'z' })
  assert.deepEqual(parseAuthParams('libp2p-peerid bearer=tok'), { bearer: 'tok' })
  assert.equal(parseAuthParams('Bearer abc'), undefined)
  assert.equal(parseAuthParams('libp2p-PeerIDx a="b"'), undefined)
  assert.throws(() => parseAuthParams('libp2p-PeerID a="b" a="c"'), PeerIdAuthError)
  assert.throws(() => parseAuthParams('libp2p-PeerID a="b'), PeerIdAuthError)
  assert.throws(() => parseAuthParams('libp2p-PeerID a="b"c="d"'), PeerIdAuthError)
  assert.throws(() => parseAuthParams(`libp2p-PeerID a="${'x'.repeat(3000)}"`), PeerIdAuthError)
  assert.deepEqual(base64UrlDecode('-_8'), Uint8Array.of(0xfb, 0xff))
  assert.throws(() => base64UrlDecode('a+b/'), PeerIdAuthError)
  const key = new Uint8Array(32).fill(7)
  assert.deepEqual(unseal(key, seal(key, { a: 1 })), { a: 1 })
  assert.throws(() => unseal(new Uint8Array(32), seal(key, { a: 1 })), PeerIdAuthError)
})

async function listen (handler: (req: Request) => Promise<Response>): Promise<{ server: Server, url: string }> {
  const server = createServer(toNodeListener(handler))
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

test('over plain HTTP (node:http and fetch): both handshakes, the bearer token, and every refusal', async (t) => {
  const serverKey = await generateKeyPair('Ed25519')
  const clientKey = await generateKeyPair('Ed25519')
  let now = 1_000_000
  const auth = new ServerPeerIdAuth({ privateKey: serverKey, now: () => now, tokenTTL: 10_000 })
  const seen: string[] = []
  const { server, url } = await listen(auth.protect(async (req, peer) => {
    seen.push(`${req.method} ${peer.toString()} ${await req.text()}`)
    return new Response(`hello ${peer.toString()}`)
  }))
  t.after(() => { server.close(); server.closeAllConnections() })
  const clientPeer = peerIdFromPrivateKey(clientKey).toString()
  const serverPeer = peerIdFromPrivateKey(serverKey)

  for (const serverInitiated of [false, true]) {
    const client = new ClientPeerIdAuth({ privateKey: clientKey })
    seen.length = 0
    const { response, peer } = await client.fetch(`${url}/private`, { method: 'POST', body: 'payload', serverInitiated, expectedPeer: serverPeer })
    assert.equal(await response.text(), `hello ${clientPeer}`)
    assert.ok(peer.equals(serverPeer))
    assert.deepEqual(seen, [`POST ${clientPeer} payload`], 'the handler ran once, with the body, after authentication')
    // the bearer token: one request, no handshake
    const again = await client.fetch(`${url}/private`, { method: 'POST', body: 'two' })
    assert.equal(again.response.status, 200)
    await again.response.text()
    assert.deepEqual(seen.slice(1), [`POST ${clientPeer} two`])
  }

  // an expired token is refused, and the client runs the handshake again by itself
  const client = new ClientPeerIdAuth({ privateKey: clientKey })
  await (await client.fetch(url)).response.text()
  const token = client.token(new URL(url).host)!
  now += 20_000
  const refused = await fetch(url, { headers: { authorization: formatAuthParams({ bearer: token }) } })
  assert.equal(refused.status, 401)
  assert.ok(parseAuthParams(refused.headers.get('www-authenticate'))?.['challenge-client'] !== undefined)
  await refused.text()
  const renewed = await client.fetch(url)
  assert.equal(renewed.response.status, 200)
  await renewed.response.text()
  assert.notEqual(client.token(new URL(url).host), token)

  // a token for another hostname (the same token works for its own), a forged token, a wrong signature
  const fresh = client.token(new URL(url).host)!
  const own = await fetch(url, { headers: { authorization: formatAuthParams({ bearer: fresh }) } })
  assert.equal(own.status, 200)
  await own.text()
  // (fetch always sends the URL's host, so this one goes through node:http)
  const elsewhere = await new Promise<number>((resolve, reject) => {
    request(url, { headers: { authorization: formatAuthParams({ bearer: fresh }), host: 'other.example:1' } }, (res) => { res.resume(); resolve(res.statusCode ?? 0) }).on('error', reject).end()
  })
  assert.equal(elsewhere, 401)
  const forged = base64UrlEncode(new Uint8Array(64).fill(1))
  assert.equal((await fetch(url, { headers: { authorization: formatAuthParams({ bearer: forged }) } })).status, 401)
  const challenge = await fetch(url)
  const params = parseAuthParams(challenge.headers.get('www-authenticate'))!
  await challenge.text()
  const wrongSig = await fetch(url, { headers: { authorization: formatAuthParams({ 'public-key': base64UrlEncode(publicKeyToProtobuf(clientKey.publicKey)), opaque: params.opaque, 'challenge-server': 'abc', sig: base64UrlEncode(new Uint8Array(64)) }) } })
  assert.equal(wrongSig.status, 401)
  await wrongSig.text()
  const malformed = await fetch(url, { headers: { authorization: 'libp2p-PeerID bearer="unterminated' } })
  assert.equal(malformed.status, 400)
  await malformed.text()

  // an impostor: the server's key is not the peer we expect
  const impostor = new ClientPeerIdAuth({ privateKey: clientKey })
  await assert.rejects(impostor.fetch(url, { expectedPeer: peerIdFromPrivateKey(clientKey) }), PeerIdAuthError)
})
