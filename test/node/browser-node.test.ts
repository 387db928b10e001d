/**
 * A browser node in real Chromium (the default browser stack: WebSockets, Noise, Yamux) dials
 * over WebSockets a ts-libp2p listener in this process: the connection is Noise + Yamux,
 * identify reports the listener's agent and protocols, ping answers, a 1 MiB echo comes back
 * intact, and stopping the page's node closes its connections; `createLibp2p()` with no options
 * reaches a peer through a ts relay. The go-libp2p listener case is in
 * test/interop/browser-websockets.test.ts. Pages come from 127.0.0.1, so ws:// to 127.0.0.1 works.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p, peerIdFromString } from '../../src/index.ts'
import type { Libp2p } from '../../src/index.ts'
import { echo } from '../../src/protocols/echo/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import { webSockets } from '../../src/transport/websockets/index.ts'
import { webTransport } from '../../src/transport/webtransport/index.ts'
import { circuitRelayServer, circuitRelayTransport } from '../../src/relay/index.ts'
import { chromiumSkip, withBrowserPage } from '../support/browser/index.ts'
import type { DialReport } from './fixtures/browser-node-page.ts'
import { ECHO_BYTES, assertHealthyDial } from './fixtures/browser-dial-report.ts'

const PAGE = new URL('./fixtures/browser-node-page.ts', import.meta.url)
const WS_LISTEN = '/ip4/127.0.0.1/tcp/0/ws'

/** Resolves when `node` reports (self:peer:update) an address that matches; bounded by `timeoutMs`. */
async function addressAppears (node: Libp2p, match: (addr: string) => boolean, timeoutMs = 10_000): Promise<void> {
  const has = (): boolean => node.getMultiaddrs().some(a => match(a.toString()))
  if (has()) return
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { node.removeEventListener('self:peer:update', check); reject(new Error(`no such address within ${timeoutMs} ms: ${node.getMultiaddrs().join(', ')}`)) }, timeoutMs)
    const check = (): void => {
      if (!has()) return
      clearTimeout(timer)
      node.removeEventListener('self:peer:update', check)
      resolve()
    }
    node.addEventListener('self:peer:update', check)
  })
}


describe('a browser node dials over WebSockets', { skip: chromiumSkip() }, () => {
  let listener: Libp2p | undefined
  before(async () => {
    listener = await createLibp2p({
      addresses: { listen: [WS_LISTEN] },
      transports: [webSockets()],
      services: { identify: identify(), ping: ping(), echo: echo() }
    })
  })
  after(async () => { await listener?.stop() })

  it('a ts-libp2p listener: identify, ping, 1 MiB echo', async () => {
    const addr = listener!.getMultiaddrs().find(a => a.toString().includes('/ws/'))!.toString()
    const report = await withBrowserPage(PAGE, async page => await page.call<DialReport>('dialIdentifyPingEcho', addr, ECHO_BYTES))
    assertHealthyDial(report, listener!.peerId.toString(), /^ts-libp2p\//)
    // the listener saw a browser: identify carries the page's user agent
    const seen = await listener!.peerStore.get(peerIdFromString(report.localPeer))
    assert.match(new TextDecoder().decode(seen.metadata.get('AgentVersion')), /browser|Chrome/i)
  })

  it('createLibp2p() with no options dials a Node WebTransport listener by its certhash address (WebTransport is a browser default) and pings it', async () => {
    const wtListener = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/udp/0/quic-v1/webtransport'] },
      transports: [webTransport()],
      services: { identify: identify(), ping: ping() }
    })
    try {
      const addr = wtListener.getMultiaddrs()[0].toString()
      assert.match(addr, /\/webtransport\/certhash\/.+\/certhash\//)
      const report = await withBrowserPage(PAGE, async page => await page.call<{ remotePeer: string, remoteAddr: string, limited: boolean, rtt: number }>('defaultNodeDialAndPing', addr))
      assert.equal(report.remotePeer, wtListener.peerId.toString())
      assert.match(report.remoteAddr, /\/quic-v1\/webtransport/)
      assert.equal(report.limited, false)
      assert.ok(report.rtt >= 0)
    } finally {
      await wtListener.stop()
    }
  })

  it('createLibp2p() with no options reaches a Node peer through a ts relay (the relay client is a browser default) and pings it', async () => {
    const relay = await createLibp2p({ addresses: { listen: [WS_LISTEN] }, transports: [webSockets()], services: { identify: identify(), relay: circuitRelayServer() } })
    let target: Libp2p | undefined
    try {
      const relayAddr = relay.getMultiaddrs().find(a => a.toString().includes('/ws/'))!.toString()
      target = await createLibp2p({ start: false, addresses: { listen: [`${relayAddr}/p2p-circuit`] }, transports: [webSockets(), circuitRelayTransport()], services: { identify: identify(), ping: ping() } })
      const reserved = addressAppears(target, a => a.includes('/p2p-circuit'))
      await target.start()
      await reserved
      const circuitAddr = `${relayAddr}/p2p-circuit/p2p/${target.peerId.toString()}`
      const report = await withBrowserPage(PAGE, async page => await page.call<{ remotePeer: string, remoteAddr: string, limited: boolean, rtt: number }>('defaultNodeDialAndPing', circuitAddr))
      assert.equal(report.remotePeer, target.peerId.toString())
      assert.match(report.remoteAddr, /\/p2p-circuit/)
      assert.equal(report.limited, true, 'a relayed connection carries the relay\'s limits')
      assert.ok(report.rtt >= 0)
    } finally {
      await target?.stop()
      await relay.stop()
    }
  })
})
