/**
 * The client role of the `libp2p-PeerID` HTTP authentication scheme (see peer-id-auth.ts for
 * the server and the scheme's details). `ClientPeerIdAuth.fetch()` returns the response and
 * the server's authenticated peer id:
 *
 *   const auth = new ClientPeerIdAuth({ privateKey })
 *   const { response, peer } = await auth.fetch('http://127.0.0.1:8080/private', { expectedPeer })
 *
 * Handshake requests carry no body; only the final, authenticated request carries the
 * caller's. With a cached bearer token the request goes out once; if the server refuses the
 * token (401) the handshake runs and the request is sent again, which needs a body that can be
 * sent twice (not a ReadableStream).
 */
import type { PeerId } from '../../interface/peer-id.ts'
import type { PrivateKey, PublicKey } from '../../interface/keys.ts'
import { publicKeyFromProtobuf, publicKeyToProtobuf, randomBytes } from '../../crypto/index.ts'
import { peerIdFromPublicKey } from '../../peer/peer-id.ts'
import { PeerIdAuthError, base64UrlDecode, base64UrlEncode, dataToSign, formatAuthParams, parseAuthParams } from './auth-params.ts'

export interface ClientPeerIdAuthOptions {
  privateKey: PrivateKey
  /** Hostnames whose bearer tokens are kept (default 256). */
  tokenCacheSize?: number
  /** Challenges (tests; default 32 random bytes, base64url). */
  makeChallenge?: () => string
}

export interface PeerIdAuthFetchInit extends RequestInit {
  /** Fail unless the server proves this peer id. */
  expectedPeer?: PeerId
  /** The hostname both sides sign (default: the URL's host, port included, as in the Host field). */
  hostname?: string
  /** Start with the server-initiated handshake (one more round trip before the server proves itself). */
  serverInitiated?: boolean
  /** The fetch to send requests with (default globalThis.fetch). */
  fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>
}

export interface PeerIdAuthResult {
  response: Response
  /** The server's peer id, proven by its signature (or by the token it gave earlier). */
  peer: PeerId
}

interface Token { bearer: string, peer: PeerId }

function serverKey (value: string | undefined): { key: PublicKey, bytes: Uint8Array } {
  if (value === undefined) throw new PeerIdAuthError('the server sent no public-key')
  const bytes = base64UrlDecode(value)
  try {
    return { key: publicKeyFromProtobuf(bytes), bytes }
  } catch (err) {
    throw new PeerIdAuthError(`invalid server public-key: ${(err as Error).message}`)
  }
}

async function discard (response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {})
}

export class ClientPeerIdAuth {
  readonly #key: PrivateKey
  readonly #publicKey: Uint8Array
  readonly #tokens = new Map<string, Token>()
  readonly #cacheSize: number
  readonly #makeChallenge: () => string

  constructor (options: ClientPeerIdAuthOptions) {
    this.#key = options.privateKey
    this.#publicKey = publicKeyToProtobuf(options.privateKey.publicKey)
    this.#cacheSize = options.tokenCacheSize ?? 256
    this.#makeChallenge = options.makeChallenge ?? (() => base64UrlEncode(randomBytes(32)))
  }

  /** Forgets the bearer token of `hostname` (or all). */
  forget (hostname?: string): void {
    if (hostname === undefined) this.#tokens.clear()
    else this.#tokens.delete(hostname)
  }

  /** The bearer token kept for `hostname`, if any. */
  token (hostname: string): string | undefined {
    return this.#tokens.get(hostname)?.bearer
  }

  async fetch (url: string | URL, init: PeerIdAuthFetchInit = {}): Promise<PeerIdAuthResult> {
    const { expectedPeer, hostname: givenHostname, serverInitiated, fetch: fetchFn = globalThis.fetch, ...requestInit } = init
    const hostname = givenHostname ?? new URL(url).host
    const send = async (authorization: string | undefined, withBody: boolean): Promise<Response> => {
      const headers = new Headers(requestInit.headers)
      if (authorization !== undefined) headers.set('authorization', authorization)
      const next: RequestInit & { duplex?: 'half' } = { ...requestInit, headers }
      if (!withBody) delete next.body
      else if (next.body instanceof ReadableStream) next.duplex = 'half'
      return await fetchFn(url, next)
    }
    const check = (peer: PeerId): PeerId => {
      if (expectedPeer !== undefined && !peer.equals(expectedPeer)) throw new PeerIdAuthError(`the server is ${peer.toString()}, not ${expectedPeer.toString()}`)
      return peer
    }

    const cached = this.#tokens.get(hostname)
    if (cached !== undefined) {
      check(cached.peer)
      const response = await send(formatAuthParams({ bearer: cached.bearer }), true)
      if (response.status !== 401) return { response, peer: cached.peer }
      await discard(response)
      this.#tokens.delete(hostname)
    }

    let challengeResponse: Response
    let challengeServer: string | undefined
    if (serverInitiated === true) {
      challengeResponse = await send(undefined, false)
    } else {
      challengeServer = this.#makeChallenge()
      challengeResponse = await send(formatAuthParams({ 'challenge-server': challengeServer, 'public-key': base64UrlEncode(this.#publicKey) }), false)
    }
    if (challengeResponse.status !== 401) {
      await discard(challengeResponse)
      throw new PeerIdAuthError(`expected a 401 challenge, got ${challengeResponse.status}`)
    }
    const params = parseAuthParams(challengeResponse.headers.get('www-authenticate'))
    await discard(challengeResponse)
    if (params?.['challenge-client'] === undefined || params.opaque === undefined) throw new PeerIdAuthError('the server sent no libp2p-PeerID challenge')
    const challengeClient = params['challenge-client']

    if (challengeServer !== undefined && params.sig !== undefined) {
      // client-initiated: the server proved itself already; we answer its challenge
      const server = serverKey(params['public-key'])
      const proof = dataToSign([['challenge-server', challengeServer], ['client-public-key', this.#publicKey], ['hostname', hostname]])
      if (!(await server.key.verify(proof, base64UrlDecode(params.sig)))) throw new PeerIdAuthError('the server\'s signature does not verify')
      const peer = check(peerIdFromPublicKey(server.key))
      const sig = await this.#signChallenge(challengeClient, server.bytes, hostname)
      const response = await send(formatAuthParams({ opaque: params.opaque, sig }), true)
      this.#keep(hostname, response, peer)
      return { response, peer }
    }

    // server-initiated (or the server ignored our challenge and started its own)
    const given = params['public-key'] !== undefined ? serverKey(params['public-key']) : undefined
    challengeServer = this.#makeChallenge()
    const sig = await this.#signChallenge(challengeClient, given?.bytes, hostname)
    const response = await send(formatAuthParams({ 'public-key': base64UrlEncode(this.#publicKey), opaque: params.opaque, 'challenge-server': challengeServer, sig }), true)
    const info = parseAuthParams(response.headers.get('authentication-info'))
    try {
      if (info?.sig === undefined) throw new PeerIdAuthError(`the server did not prove its peer id (status ${response.status})`)
      const server = given ?? serverKey(info['public-key'])
      const proof = dataToSign([['challenge-server', challengeServer], ['client-public-key', this.#publicKey], ['hostname', hostname]])
      if (!(await server.key.verify(proof, base64UrlDecode(info.sig)))) throw new PeerIdAuthError('the server\'s signature does not verify')
      const peer = check(peerIdFromPublicKey(server.key))
      this.#keep(hostname, response, peer)
      return { response, peer }
    } catch (err) {
      await discard(response)
      throw err
    }
  }

  /** Our signature over the server's challenge (with its key when it told us the key). */
  async #signChallenge (challengeClient: string, serverPublicKey: Uint8Array | undefined, hostname: string): Promise<string> {
    const parts: Array<[string, string | Uint8Array]> = [['challenge-client', challengeClient], ['hostname', hostname]]
    if (serverPublicKey !== undefined) parts.push(['server-public-key', serverPublicKey])
    return base64UrlEncode(await this.#key.sign(dataToSign(parts)))
  }

  #keep (hostname: string, response: Response, peer: PeerId): void {
    const bearer = parseAuthParams(response.headers.get('authentication-info'))?.bearer
    if (bearer === undefined) return
    if (this.#tokens.size >= this.#cacheSize && !this.#tokens.has(hostname)) this.#tokens.delete(this.#tokens.keys().next().value!)
    this.#tokens.set(hostname, { bearer, peer })
  }
}
