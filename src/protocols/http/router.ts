/**
 * Handlers by path, and the `/.well-known/libp2p/protocols` document that tells clients where
 * each application protocol is mounted (http/README.md, "Namespace").
 *
 * A path ending in `/` is a prefix (`/kad/` serves `/kad/anything`); any other path serves
 * itself and what lies below it (`/echo` serves `/echo` and `/echo/x`). The longest match
 * wins, so `/kademlia/foo` beats `/` as the spec recommends.
 *
 * The document is served as the bare map `{ "<protocol id>": { "path": "..." } }`: the spec's
 * example wraps it in `{ "protocols": ... }`, but go-libp2p and js-libp2p both serve and
 * expect the bare map, and interop decides. The reader accepts both shapes.
 */
import { InvalidParametersError } from '../../util/errors.ts'
import { HttpMalformedError } from './errors.ts'
import type { FetchHandler, RequestContext } from './server.ts'
import { errorResponse } from './server.ts'

export const WELL_KNOWN_PROTOCOLS_PATH = '/.well-known/libp2p/protocols'
/** The well-known document is small; a larger one is refused rather than buffered. */
export const MAX_WELL_KNOWN_BYTES = 64 * 1024

export interface ProtocolDescriptor { path: string }
export type ProtocolMap = Record<string, ProtocolDescriptor>

interface Route {
  path: string
  handler: FetchHandler
  protocol?: string
}

export interface RouteOptions {
  /** The application protocol id served at this path, listed in the well-known document. */
  protocol?: string
}

export class HttpRouter {
  readonly #routes: Route[] = []

  /** Serves `path` (and below) with `handler`; replaces an earlier handler of the same path. */
  add (path: string, handler: FetchHandler, options: RouteOptions = {}): void {
    if (!path.startsWith('/')) throw new InvalidParametersError(`an HTTP handler path must start with /: ${path}`)
    if (path === WELL_KNOWN_PROTOCOLS_PATH) throw new InvalidParametersError(`${path} is served by the node itself`)
    this.remove(path)
    this.#routes.push({ path, handler, protocol: options.protocol })
    // longest first: the first match is the most specific
    this.#routes.sort((a, b) => b.path.length - a.path.length)
  }

  remove (path: string): void {
    const i = this.#routes.findIndex(r => r.path === path)
    if (i >= 0) this.#routes.splice(i, 1)
  }

  /** The handler for `pathname`, or undefined. */
  match (pathname: string): FetchHandler | undefined {
    for (const route of this.#routes) {
      const p = route.path
      if (pathname === p) return route.handler
      if (pathname.startsWith(p) && (p.endsWith('/') || pathname[p.length] === '/')) return route.handler
    }
    return undefined
  }

  protocolMap (): ProtocolMap {
    const map: ProtocolMap = {}
    for (const route of this.#routes) if (route.protocol !== undefined) map[route.protocol] = { path: route.path }
    return map
  }

  /** The fetch-style entry point: the well-known document, a route, or 404. */
  readonly onRequest: FetchHandler = async (request: Request, context: RequestContext): Promise<Response> => {
    const { pathname } = new URL(request.url)
    if (pathname === WELL_KNOWN_PROTOCOLS_PATH) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return new Response(null, { status: 405, headers: { allow: 'GET, HEAD' } })
      return Response.json(this.protocolMap())
    }
    const handler = this.match(pathname)
    if (handler === undefined) return errorResponse(404, `no handler for ${pathname}`)
    return await handler(request, context)
  }
}

/** Parses a well-known document (bare map or `{ protocols: map }`); malformed entries are skipped. */
export function parseProtocolMap (json: unknown): ProtocolMap {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new HttpMalformedError('the well-known protocols document is not a JSON object')
  let source = json as Record<string, unknown>
  const wrapped = source.protocols
  if (typeof wrapped === 'object' && wrapped !== null && !Array.isArray(wrapped)) source = wrapped as Record<string, unknown>
  const map: ProtocolMap = {}
  for (const [id, value] of Object.entries(source)) {
    if (typeof value !== 'object' || value === null) continue
    const path = (value as { path?: unknown }).path
    if (typeof path === 'string' && path.startsWith('/')) map[id] = { path }
  }
  return map
}
