/** What the AutoNAT service and its client and server halves use of the node. */
import type { NodeComponents } from '../../interface/components.ts'

export type AutoNATComponents = Pick<NodeComponents, 'peerId' | 'registrar' | 'connectionManager' | 'addressManager' | 'peerStore' | 'events' | 'logger'>
