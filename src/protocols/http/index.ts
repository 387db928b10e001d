/**
 * HTTP over libp2p (`/http/1.1`) with fetch-style handlers and client, the well-known
 * protocols document, and the `libp2p-PeerID` HTTP authentication scheme:
 * `import { http } from 'ts-libp2p/http'`, then `services: { http: http() }`.
 */
export { http, HttpService, parseHttpTarget, HTTP_PROTOCOL, type HttpServiceOptions, type HttpFetchInit, type HttpComponents } from './http.ts'
export { HttpRouter, parseProtocolMap, WELL_KNOWN_PROTOCOLS_PATH, type ProtocolMap, type ProtocolDescriptor, type RouteOptions } from './router.ts'
export { serveHttpStream, writeResponse, errorResponse, type FetchHandler, type RequestContext, type ServeOptions } from './server.ts'
export { requestOverStream, type StreamRequestOptions } from './client.ts'
export { HttpStreamReader, BodyReader } from './reader.ts'
export { DEFAULT_HTTP_LIMITS, type HttpLimits, type HeaderList, type RequestHead, type ResponseHead, type BodyFraming } from './head.ts'
export * from './errors.ts'
export { ServerPeerIdAuth, type ServerPeerIdAuthOptions, type ServerAuthResult } from './peer-id-auth.ts'
export { ClientPeerIdAuth, type ClientPeerIdAuthOptions, type PeerIdAuthFetchInit, type PeerIdAuthResult } from './peer-id-auth-client.ts'
export { PEER_ID_AUTH_SCHEME, HTTP_PEER_ID_AUTH_PROTOCOL, PeerIdAuthError, parseAuthParams, formatAuthParams, dataToSign } from './auth-params.ts'
export { toNodeListener, type NodeListener, type NodeRequestLike, type NodeResponseLike } from './node-listener.ts'
export { fromNodeListener, type NodeStyleListener } from '#http-node-adapter'
