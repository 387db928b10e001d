/**
 * Real Chromium (Debian's package, through the harness in test/support/browser/) running
 * ts-libp2p's browser build dials WebTransport listeners with `serverCertificateHashes`: ours
 * in this process (HTTP/3 and WebTransport over our QUIC) and go-libp2p's (interop/go-peer),
 * then Noise with certhashes, identify, ping, an echo and many concurrent streams; a wrong
 * certhash fails. js-libp2p's @libp2p/webtransport in Chromium dials our listener too.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p } from '../../../src/index.ts'
import type { Libp2p } from '../../../src/index.ts'
import { echo } from '../../../src/protocols/echo/index.ts'
import { identify } from '../../../src/protocols/identify/index.ts'
import { ping } from '../../../src/protocols/ping/index.ts'
import { webTransport } from '../../../src/transport/webtransport/index.ts'
import { encodeCerthash } from '../../../src/transport/certhash.ts'
import { chromiumSkip, withBrowserPage } from '../../support/browser/index.ts'
import type { WebTransportDialReport } from './fixtures/browser-webtransport-page.ts'
import type { JsDialReport } from './fixtures/js-libp2p-webtransport-page.ts'
import { buildGoPeer, goAvailable, spawnPeer } from '../../interop/harness.ts'
import type { PeerProcess } from '../../interop/harness.ts'

const PAGE = new URL('./fixtures/browser-webtransport-page.ts', import.meta.url)
const JS_PAGE = new URL('./fixtures/js-libp2p-webtransport-page.ts', import.meta.url)
const ECHO_BYTES = 256 * 1024
const STREAMS = 32
const hasGo = await goAvailable()

function assertHealthy (report: WebTransportDialReport, remotePeer: string, agent: RegExp): void {
  assert.equal(report.remotePeer, remotePeer)
  assert.match(report.remoteAddr, /^\/ip4\/127\.0\.0\.1\/udp\/\d+\/quic-v1\/webtransport\/certhash\//)
  assert.equal(report.encryption, '/noise')
  assert.equal(report.multiplexer, '/webtransport')
  assert.match(report.agentVersion ?? '', agent)
  assert.ok(report.protocols.includes('/echo/1.0.0'))
  assert.ok(report.rtt >= 0)
  assert.equal(report.echoMatches, true)
  assert.equal(report.streamsOk, STREAMS)
  assert.equal(report.connectionsAfterStop, 0)
}

/** Resolves once `node` has no connection left; rejects after `ms`. */
async function connectionsGone (node: Libp2p, ms: number): Promise<void> {
  if (node.getConnections().length === 0) return
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { node.removeEventListener('connection:close', check); reject(new Error(`${node.getConnections().length} connections still open after ${ms} ms`)) }, ms)
    function check (): void {
      if (node.getConnections().length > 0) return
      clearTimeout(timer)
      node.removeEventListener('connection:close', check)
      resolve()
    }
    node.addEventListener('connection:close', check)
    check()
  })
}

describe('Chromium dials WebTransport', { skip: chromiumSkip() }, () => {
  let listener: Libp2p | undefined
  before(async () => {
    listener = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/udp/0/quic-v1/webtransport'] },
      transports: [webTransport()],
      services: { identify: identify(), ping: ping(), echo: echo() }
    })
  })
  after(async () => { await listener?.stop() })

  it('our Node listener: Noise with certhashes, identify, ping, echo, 32 concurrent streams', { timeout: 120_000 }, async () => {
    const addr = listener!.getMultiaddrs()[0].toString()
    const report = await withBrowserPage(PAGE, async page => await page.call<WebTransportDialReport>('dialIdentifyPingEcho', addr, ECHO_BYTES, STREAMS))
    assertHealthy(report, listener!.peerId.toString(), /^ts-libp2p\//)
    // The page's node stopped: its session ended, and so did the listener's connection.
    await connectionsGone(listener!, 10_000)
  })

  it('a wrong certhash fails', { timeout: 120_000 }, async () => {
    const addr = listener!.getMultiaddrs()[0].toString()
    const wrong = addr.replace(/(\/certhash\/[^/]+)+/, `/certhash/${encodeCerthash(new Uint8Array(32).fill(9))}`)
    const message = await withBrowserPage(PAGE, async page => await page.call<string>('dialExpectingFailure', wrong))
    assert.notEqual(message, 'connected')
    assert.equal(listener!.getConnections().length, 0)
  })

  it('a go-libp2p listener: Noise with certhashes, identify, ping, echo, 32 concurrent streams', { skip: hasGo ? false : 'no Go toolchain to build interop/go-peer', timeout: 600_000 }, async () => {
    await buildGoPeer()
    let go: PeerProcess | undefined
    try {
      go = await spawnPeer('go', ['--listen', '/ip4/127.0.0.1/udp/0/quic-v1/webtransport'])
      const addr = go.addrs.find(a => a.includes('/webtransport/certhash/'))!
      const report = await withBrowserPage(PAGE, async page => await page.call<WebTransportDialReport>('dialIdentifyPingEcho', addr, ECHO_BYTES, STREAMS))
      assertHealthy(report, go.peerId, /go-libp2p|go-peer/)
    } finally {
      await go?.stop()
    }
  })

  it('js-libp2p (@libp2p/webtransport) in Chromium: our Node listener answers identify, ping and echo', { timeout: 120_000 }, async () => {
    const addr = listener!.getMultiaddrs()[0].toString()
    const report = await withBrowserPage(JS_PAGE, async page => await page.call<JsDialReport>('jsDialPingEcho', addr))
    assert.equal(report.remotePeer, listener!.peerId.toString())
    assert.match(report.agentVersion ?? '', /^ts-libp2p\//)
    assert.ok(report.rtt >= 0)
    assert.equal(report.echoMatches, true)
  })
})
