/**
 * Two ends of one real loopback TCP connection through our TcpTransport (dialed, accepted),
 * for tests of what runs on top of a raw connection (encrypters over a socket that hands bytes
 * over in its shared, reused read buffer). The caller closes or aborts both ends.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { TcpTransport } from '../../src/transport/tcp/index.ts'
import type { RawConnection } from '../../src/interface/transport.ts'

export async function loopbackTcpPair (): Promise<[RawConnection, RawConnection]> {
  const transport = new TcpTransport()
  let onInbound!: (conn: RawConnection) => void
  const inbound = new Promise<RawConnection>((resolve) => { onInbound = resolve })
  const listener = transport.createListener({ onConnection: (conn) => { onInbound(conn) } })
  await listener.listen(multiaddr('/ip4/127.0.0.1/tcp/0'))
  try {
    const dialed = await transport.dial(listener.getAddrs()[0])
    return [dialed, await inbound]
  } finally {
    await listener.close()
  }
}
