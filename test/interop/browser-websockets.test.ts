/**
 * A browser node in real Chromium dials a go-libp2p listener (interop/go-peer) over WebSockets:
 * Noise + Yamux, identify (go's agent and protocols), ping, a 1 MiB echo, and stopping the
 * page's node closes the connection. The ts listener case is test/node/browser-node.test.ts.
 */
import { describe, it } from 'node:test'
import { chromiumSkip, withBrowserPage } from '../support/browser/index.ts'
import { buildGoPeer, goAvailable, spawnPeer } from './harness.ts'
import type { PeerProcess } from './harness.ts'
import type { DialReport } from '../node/fixtures/browser-node-page.ts'
import { ECHO_BYTES, assertHealthyDial } from '../node/fixtures/browser-dial-report.ts'

const PAGE = new URL('../node/fixtures/browser-node-page.ts', import.meta.url)
const hasGo = await goAvailable()

describe('a browser node dials go-libp2p over WebSockets', { skip: chromiumSkip() }, () => {
  it('identify, ping, 1 MiB echo', { skip: hasGo ? false : 'no Go toolchain to build interop/go-peer', timeout: 600_000 }, async () => {
    await buildGoPeer()
    let go: PeerProcess | undefined
    try {
      go = await spawnPeer('go', ['--listen', '/ip4/127.0.0.1/tcp/0/ws'])
      const addr = go.addrs.find(a => a.includes('/ws/'))!
      const report = await withBrowserPage(PAGE, async page => await page.call<DialReport>('dialIdentifyPingEcho', addr, ECHO_BYTES))
      assertHealthyDial(report, go.peerId, /go-libp2p|go-peer/)
    } finally {
      await go?.stop()
    }
  })
})
