/**
 * Real Chromium (the harness in test/support/browser/, inside network namespaces: Chromium
 * gathers no ICE candidates on loopback) running ts-libp2p's browser build dials our Node
 * WebRTC Direct listener with the native RTCPeerConnection: with SDP munging allowed (v1) and
 * with Chrome's no-munging field trial forced (v2). Identify, ping and a 16 MiB echo.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { NO_SDP_MUNGING_TRIAL, chromiumInNamespaceSkip, createBrowserLab, withBrowserPage } from '../../support/browser/index.ts'
import type { DirectDialReport } from './fixtures/browser-direct-page.ts'

const PAGE = new URL('./fixtures/browser-direct-page.ts', import.meta.url)
const PEER = fileURLToPath(new URL('./fixtures/direct-listener-peer.ts', import.meta.url))
const ECHO_BYTES = 16 * 1024 * 1024

describe('Chromium dials our WebRTC Direct listener', { skip: await chromiumInNamespaceSkip() }, () => {
  for (const munging of [true, false]) {
    it(`${munging ? 'v1 (SDP munging allowed)' : 'v2 (no-munging field trial)'}: identify, ping, 16 MiB echo`, { timeout: 180_000 }, async () => {
      const lab = await createBrowserLab()
      try {
        const peer = lab.spawnNode(PEER, [lab.peerAddress])
        const addr = (await peer.nextLine(line => line.startsWith('listening '), 60_000)).split(' ')[1]
        await withBrowserPage(PAGE, async page => {
          assert.equal(await page.call<boolean>('canMungeUfrag'), munging)
          const report = await page.call<DirectDialReport>('dialIdentifyPingEcho', addr, ECHO_BYTES)
          assert.equal(report.remotePeer, addr.split('/p2p/')[1])
          assert.match(report.remoteAddr, /\/webrtc-direct\/certhash\//)
          assert.equal(report.encryption, '/noise')
          assert.equal(report.multiplexer, '/webrtc')
          assert.match(report.agentVersion ?? '', /^ts-libp2p\//)
          assert.ok(report.protocols.includes('/echo/1.0.0'))
          assert.ok(report.rtt >= 0)
          assert.equal(report.echoMatches, true)
          assert.equal(report.connectionsAfterStop, 0)
        }, { lab, ...munging ? {} : { fieldTrials: [NO_SDP_MUNGING_TRIAL] } })
        await peer.stop()
      } finally {
        lab.destroySync()
      }
    })
  }
})
