/**
 * The page of `npm run bench:webtransport`: a ts-libp2p browser node (WebTransport only) that
 * measures one listener: fresh dials each followed by a first ping, then ping round trips on one
 * connection (`measure`); and, in a call of its own so the runner can count the listener's CPU
 * time over the transfer alone, an echo of `bytes` on one stream (`echoRate`).
 */
import { createLibp2p, multiaddr } from '../../src/index.ts'
import { echo } from '../../src/protocols/echo/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import { webTransport } from '../../src/transport/webtransport/index.ts'

export interface PageFigures {
  dialPingMs: number[]
  pingMs: number[]
}

async function browserNode () {
  return await createLibp2p({ transports: [webTransport()], services: { identify: identify({ runOnConnectionOpen: false }), ping: ping(), echo: echo() } })
}

export async function measure (addr: string, dials: number, pings: number): Promise<PageFigures> {
  const target = multiaddr(addr)
  const dialPingMs: number[] = []
  for (let i = 0; i < dials; i++) {
    const node = await browserNode()
    try {
      const started = performance.now()
      await node.dial(target)
      await node.services.ping.ping(target)
      dialPingMs.push(performance.now() - started)
    } finally {
      await node.stop()
    }
  }
  const node = await browserNode()
  try {
    await node.dial(target)
    const pingMs: number[] = []
    for (let i = 0; i < pings; i++) pingMs.push(await node.services.ping.ping(target))
    return { dialPingMs, pingMs }
  } finally {
    await node.stop()
  }
}

/** Echoes `bytes` over one stream of a connection made beforehand; MiB/s counted both ways. */
export async function echoRate (addr: string, bytes: number): Promise<number> {
  const target = multiaddr(addr)
  const node = await browserNode()
  try {
    await node.dial(target)
    const payload = new Uint8Array(bytes)
    for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff
    const started = performance.now()
    const echoed = await node.services.echo.echo(target, payload)
    const seconds = (performance.now() - started) / 1000
    if (echoed.length !== bytes) throw new Error(`echo returned ${echoed.length} of ${bytes} bytes`)
    return 2 * bytes / 1048576 / seconds
  } finally {
    await node.stop()
  }
}
