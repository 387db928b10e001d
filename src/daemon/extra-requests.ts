/**
 * Control requests beyond streams and connections: PEERSTORE (type 9, the js and Python
 * clients' extension). Returns undefined for a type it does not serve, so the server answers
 * "unknown request type".
 */
import type { Libp2p } from '../interface/libp2p.ts'
import type { ByteStream } from '../interface/stream.ts'
import { peerIdFromMultihash } from '../peer/peer-id.ts'
import { PeerstoreRequestType, RequestType, ResponseType, type Request, type Response } from './messages.ts'

export type ExtraRequestResult = Response | 'taken-over' | undefined

export async function handleExtraRequest (node: Libp2p, request: Request, _control: ByteStream): Promise<ExtraRequestResult> {
  if (request.type === RequestType.PEERSTORE) return await peerStoreRequest(node, request)
  return undefined
}

async function peerStoreRequest (node: Libp2p, request: Request): Promise<Response> {
  const p = request.peerStore
  if (p?.id === undefined) return { type: ResponseType.ERROR, error: { msg: 'PEERSTORE needs a peer id' } }
  const peer = await node.peerStore.get(peerIdFromMultihash(p.id))
  if (p.type === PeerstoreRequestType.GET_PROTOCOLS) return { type: ResponseType.OK, peerStore: { protos: peer.protocols } }
  if (p.type === PeerstoreRequestType.GET_PEER_INFO) {
    return { type: ResponseType.OK, peerStore: { peer: { id: p.id, addrs: peer.addresses.map(a => a.multiaddr.bytes) }, protos: [] } }
  }
  return { type: ResponseType.ERROR, error: { msg: `unknown PEERSTORE request type ${p.type}` } }
}
