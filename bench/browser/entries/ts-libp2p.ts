/** The minimal browser node, ts-libp2p: WebSockets + Noise + Yamux + identify + ping. */
import { createLibp2p } from '../../../src/index.ts'
import { webSockets } from '../../../src/transport/websockets/index.ts'
import { noise } from '../../../src/security/noise/index.ts'
import { yamux } from '../../../src/muxer/yamux/index.ts'
import { identify } from '../../../src/protocols/identify/index.ts'
import { ping } from '../../../src/protocols/ping/index.ts'

export async function start (): Promise<unknown> {
  return await createLibp2p({ transports: [webSockets()], connectionEncrypters: [noise()], streamMuxers: [yamux()], services: { identify: identify(), ping: ping() } })
}
