/**
 * Protocol clients accept "whom to talk to" as a peer id, multiaddr(s) or an existing
 * connection; this resolves all of them to a connection, dialing only when needed.
 */
import type { Connection } from '../interface/connection.ts'
import type { DialTarget } from '../interface/connection-manager.ts'
import type { NodeComponents } from '../interface/components.ts'

export type ProtocolTarget = DialTarget | Connection

export function isConnection (target: unknown): target is Connection {
  return typeof target === 'object' && target !== null && typeof (target as Connection).newStream === 'function' && 'remotePeer' in target
}

export async function resolveConnection (connectionManager: NodeComponents['connectionManager'], target: ProtocolTarget, signal?: AbortSignal): Promise<Connection> {
  return isConnection(target) ? target : await connectionManager.openConnection(target, { signal })
}
