/**
 * The `libp2p-PeerID` HTTP authentication scheme (specs http/peer-id-auth.md), both roles, for
 * HTTP where the transport does not authenticate peers (plain HTTP, HTTPS with web PKI).
 *
 * Server: `ServerPeerIdAuth.authenticate(hostname, authorizationHeader)` runs the server side
 * of both handshakes and of the bearer token, statelessly: challenges and tokens are sealed
 * with an HMAC key into the `opaque` and `bearer` values the client carries back.
 * `protect(handler)` wraps a fetch-style handler so it only runs for authenticated peers.
 *
 * Client: `ClientPeerIdAuth.fetch(url, init)` authenticates the server (and itself) with the
 * client-initiated handshake (two round trips, the server proves itself first) or answers a
 * server-initiated challenge, then keeps the bearer token per hostname for later requests.
 *
 * A detail the spec's prose leaves out and its worked example (go-libp2p) shows: when the
 * server's challenge does not carry its public key, the client's signature covers only
 * `challenge-client` and `hostname`. Clients here sign `server-public-key` exactly when they
 * were given it; the server accepts either form.
 */
import type { PeerId } from '../../interface/peer-id.ts'
import type { PrivateKey, PublicKey } from '../../interface/keys.ts'
import { publicKeyFromProtobuf, publicKeyToProtobuf, randomBytes } from '../../crypto/index.ts'
import { peerIdFromPublicKey, peerIdFromString } from '../../peer/peer-id.ts'
import {
  PeerIdAuthError, base64UrlDecode, base64UrlEncode, dataToSign, formatAuthParams, parseAuthParams, seal, unseal
} from './auth-params.ts'

export interface ServerPeerIdAuthOptions {
  privateKey: PrivateKey
  /** Key of the HMAC that seals opaque values and tokens (default: 32 random bytes). */
  hmacKey?: Uint8Array
  /** How long a bearer token is honoured, in ms (default 1 h). */
  tokenTTL?: number
  /** How long a challenge may be answered, in ms (default 60 s). */
  challengeTTL?: number
  /** Which hostnames (the Host field, port included) this server answers for (default: any). */
  validHostname?: (hostname: string) => boolean
  /** The clock, in ms (tests). */
  now?: () => number
  /** Challenges (tests; default 32 random bytes, base64url). */
  makeChallenge?: () => string
}

export type ServerAuthResult =
  | { authenticated: true, peer: PeerId, authenticationInfo?: string }
  | { authenticated: false, status: number, wwwAuthenticate?: string, message: string }

const challenge = (): string => base64UrlEncode(randomBytes(32))

function decodePublicKey (value: string | undefined): { key: PublicKey, bytes: Uint8Array } {
  if (value === undefined) throw new PeerIdAuthError('public-key missing', 400)
  const bytes = base64UrlDecode(value)
  try {
    return { key: publicKeyFromProtobuf(bytes), bytes }
  } catch (err) {
    throw new PeerIdAuthError(`invalid public-key: ${(err as Error).message}`, 400)
  }
}

function stringField (state: Record<string, unknown>, name: string): string {
  const v = state[name]
  if (typeof v !== 'string') throw new PeerIdAuthError(`sealed value lacks ${name}`)
  return v
}

export class ServerPeerIdAuth {
  readonly #key: PrivateKey
  readonly #publicKey: Uint8Array
  readonly #hmacKey: Uint8Array
  readonly #tokenTTL: number
  readonly #challengeTTL: number
  readonly #validHostname: (hostname: string) => boolean
  readonly #now: () => number
  readonly #makeChallenge: () => string

  constructor (options: ServerPeerIdAuthOptions) {
    this.#key = options.privateKey
    this.#publicKey = publicKeyToProtobuf(options.privateKey.publicKey)
    this.#hmacKey = options.hmacKey ?? randomBytes(32)
    this.#tokenTTL = options.tokenTTL ?? 60 * 60 * 1000
    this.#challengeTTL = options.challengeTTL ?? 60_000
    this.#validHostname = options.validHostname ?? (() => true)
    this.#now = options.now ?? Date.now
    this.#makeChallenge = options.makeChallenge ?? challenge
  }

  /**
   * Answers one request's `Authorization` header. Never throws: bad input becomes a 400, a
   * failed proof a fresh 401 challenge.
   */
  async authenticate (hostname: string, authorization: string | null | undefined): Promise<ServerAuthResult> {
    try {
      if (!this.#validHostname(hostname)) return { authenticated: false, status: 400, message: `not serving hostname ${hostname}` }
      const params = parseAuthParams(authorization)
      if (params === undefined) return this.#challenge(hostname, 'no libp2p-PeerID authorization')
      if (params.bearer !== undefined) return this.#bearer(hostname, params.bearer)
      if (params.opaque !== undefined && params.sig !== undefined) return await this.#verifyClient(hostname, params)
      if (params['challenge-server'] !== undefined) return await this.#clientInitiated(hostname, params)
      return this.#challenge(hostname, 'incomplete libp2p-PeerID authorization')
    } catch (err) {
      if (err instanceof PeerIdAuthError && err.status === 400) return { authenticated: false, status: 400, message: err.message }
      return this.#challenge(hostname, (err as Error).message)
    }
  }

  /** Server-initiated handshake, step 2: a challenge for the client (and our public key). */
  #challenge (hostname: string, message: string): ServerAuthResult {
    const challengeClient = this.#makeChallenge()
    const opaque = seal(this.#hmacKey, { 'challenge-client': challengeClient, hostname, 'created-time': this.#now() })
    return {
      authenticated: false,
      status: 401,
      message,
      wwwAuthenticate: formatAuthParams({ 'challenge-client': challengeClient, 'public-key': base64UrlEncode(this.#publicKey), opaque })
    }
  }

  #bearer (hostname: string, bearer: string): ServerAuthResult {
    const state = unseal(this.#hmacKey, bearer)
    if (state['is-token'] !== true) throw new PeerIdAuthError('not a bearer token')
    if (stringField(state, 'hostname') !== hostname) throw new PeerIdAuthError('bearer token for another hostname')
    const created = state['created-time']
    if (typeof created !== 'number' || this.#now() - created > this.#tokenTTL || created > this.#now() + 60_000) throw new PeerIdAuthError('bearer token expired')
    return { authenticated: true, peer: peerIdFromString(stringField(state, 'peer-id')) }
  }

  #fresh (state: Record<string, unknown>, hostname: string): void {
    const created = state['created-time']
    if (typeof created !== 'number' || this.#now() - created > this.#challengeTTL) throw new PeerIdAuthError('challenge expired')
    if (stringField(state, 'hostname') !== hostname) throw new PeerIdAuthError('challenge for another hostname')
  }

  async #sign (parts: Array<[string, string | Uint8Array]>): Promise<string> {
    return base64UrlEncode(await this.#key.sign(dataToSign(parts)))
  }

  #token (peer: PeerId, hostname: string): string {
    return seal(this.#hmacKey, { 'is-token': true, 'peer-id': peer.toString(), hostname, 'created-time': this.#now() })
  }

  /** Client-initiated handshake, step 2: prove ourselves, challenge the client. */
  async #clientInitiated (hostname: string, params: Record<string, string>): Promise<ServerAuthResult> {
    const client = decodePublicKey(params['public-key'])
    const challengeClient = this.#makeChallenge()
    const sig = await this.#sign([['challenge-server', params['challenge-server']], ['client-public-key', client.bytes], ['hostname', hostname]])
    const opaque = seal(this.#hmacKey, { 'client-public-key': base64UrlEncode(client.bytes), 'challenge-client': challengeClient, hostname, 'created-time': this.#now() })
    return {
      authenticated: false,
      status: 401,
      message: 'client-initiated handshake: the client must answer the challenge',
      wwwAuthenticate: formatAuthParams({ 'challenge-client': challengeClient, 'public-key': base64UrlEncode(this.#publicKey), sig, opaque })
    }
  }

  /** Step 3 of either handshake: the client's signature over our challenge. */
  async #verifyClient (hostname: string, params: Record<string, string>): Promise<ServerAuthResult> {
    const state = unseal(this.#hmacKey, params.opaque)
    this.#fresh(state, hostname)
    const challengeClient = stringField(state, 'challenge-client')
    // the client's key: sealed by us in the client-initiated handshake, sent now in the other
    const client = typeof state['client-public-key'] === 'string'
      ? decodePublicKey(state['client-public-key'])
      : decodePublicKey(params['public-key'])
    const sig = base64UrlDecode(params.sig)
    const withKey = dataToSign([['challenge-client', challengeClient], ['server-public-key', this.#publicKey], ['hostname', hostname]])
    let valid = await client.key.verify(withKey, sig)
    if (!valid) valid = await client.key.verify(dataToSign([['challenge-client', challengeClient], ['hostname', hostname]]), sig)
    if (!valid) throw new PeerIdAuthError('the client\'s signature does not verify')
    const peer = peerIdFromPublicKey(client.key)
    const info: Record<string, string> = {}
    if (params['challenge-server'] !== undefined) {
      // server-initiated: we prove ourselves now
      info.sig = await this.#sign([['challenge-server', params['challenge-server']], ['client-public-key', client.bytes], ['hostname', hostname]])
      info['public-key'] = base64UrlEncode(this.#publicKey)
    }
    info.bearer = this.#token(peer, hostname)
    return { authenticated: true, peer, authenticationInfo: formatAuthParams(info) }
  }

  /**
   * Wraps a fetch-style handler: it runs only for an authenticated peer, and its response
   * carries `Authentication-Info` when a handshake just finished. Others get the 401 / 400.
   */
  protect (handler: (request: Request, peer: PeerId) => Response | Promise<Response>): (request: Request) => Promise<Response> {
    return async (request) => {
      const hostname = new URL(request.url).host
      const result = await this.authenticate(hostname, request.headers.get('authorization'))
      if (!result.authenticated) {
        await request.body?.cancel().catch(() => {})
        const headers = new Headers({ 'content-type': 'text/plain; charset=utf-8' })
        if (result.wwwAuthenticate !== undefined) headers.set('www-authenticate', result.wwwAuthenticate)
        return new Response(result.message + '\n', { status: result.status, headers })
      }
      const response = await handler(request, result.peer)
      if (result.authenticationInfo === undefined) return response
      const headers = new Headers(response.headers)
      headers.set('authentication-info', result.authenticationInfo)
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers })
    }
  }
}
