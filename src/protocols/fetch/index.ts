/** The fetch protocol (`/libp2p/fetch/0.0.1`): `import { fetch } from 'ts-libp2p/fetch'`, then `services: { fetch: fetch() }`. */
export { fetch, FetchService, FetchRemoteError, type FetchOptions, type FetchComponents, type LookupFunction } from './fetch.ts'
export { FETCH_PROTOCOL, FetchStatus, encodeFetchRequest, decodeFetchRequest, encodeFetchResponse, decodeFetchResponse, type FetchResponseMessage } from './messages.ts'
