/**
 * Real Chromium (the harness in test/support/browser/, inside network namespaces: Chromium
 * gathers no ICE candidates on loopback) running ts-libp2p's browser build dials our Node
 * WebRTC Direct listener and go-libp2p's (interop/go-peer) with the native RTCPeerConnection:
 * with SDP munging allowed (v1) and with Chrome's no-munging field trial forced (v2). Identify,
 * ping and a 16 MiB echo; the zero-option browser node dials it too, and half-close and a
 * remote reset behave as our stream contract says.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { buildGoPeer, goAvailable } from '../../interop/harness.ts'
import type { BrowserLab } from '../../support/browser/index.ts'
import { NO_SDP_MUNGING_TRIAL, chromiumInNamespaceSkip, createBrowserLab, withBrowserPage } from '../../support/browser/index.ts'
import type { CyclesReport, DirectDialReport, StreamSemanticsReport } from './fixtures/browser-direct-page.ts'
import { processLines } from '../../support/lab/index.ts'

const PAGE = new URL('./fixtures/browser-direct-page.ts', import.meta.url)
const PEER = fileURLToPath(new URL('./fixtures/direct-listener-peer.ts', import.meta.url))
const ECHO_BYTES = 16 * 1024 * 1024
const hasGo = await goAvailable()

/** Starts go-peer listening on WebRTC Direct in the lab's peer namespace; resolves with its address. */
async function goListener (lab: BrowserLab): Promise<{ addr: string, stop: () => void }> {
  const bin = await buildGoPeer()
  const child = spawn('ip', ['netns', 'exec', lab.peerNamespace.name, bin, '--listen', `/ip4/${lab.peerAddress}/udp/0/webrtc-direct`], { stdio: ['pipe', 'pipe', 'ignore'] })
  const lines = createInterface({ input: child.stdout })
  const addr = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error('go-peer not ready in 60 s')) }, 60_000)
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`go-peer exited with ${code}`)) })
    lines.on('line', line => {
      try {
        const msg = JSON.parse(line) as { event?: string, addrs?: string[] }
        const found = msg.addrs?.find(a => a.includes('/webrtc-direct/certhash/'))
        if (msg.event === 'ready' && found !== undefined) { clearTimeout(timer); resolve(found) }
      } catch {}
    })
  })
  return { addr, stop: () => { child.kill('SIGKILL') } }
}

describe('Chromium dials WebRTC Direct listeners (ours and go-libp2p)', { skip: await chromiumInNamespaceSkip() }, () => {
  for (const [kind, munging] of [['ts', true], ['ts', false], ['go', true], ['go', false]] as const) {
    it(`${kind} listener, ${munging ? 'v1 (SDP munging allowed)' : 'v2 (no-munging field trial)'}: identify, ping, 16 MiB echo`, { timeout: 600_000, skip: kind === 'go' && !hasGo ? 'no Go toolchain to build interop/go-peer' : false }, async () => {
      const lab = await createBrowserLab()
      try {
        let addr: string
        let stop: () => Promise<void> | void
        if (kind === 'ts') {
          const peer = lab.spawnNode(PEER, [lab.peerAddress])
          addr = (await peer.nextLine(line => line.startsWith('listening '), 60_000)).split(' ')[1]
          stop = async () => { await peer.stop() }
        } else {
          ({ addr, stop } = await goListener(lab))
        }
        await withBrowserPage(PAGE, async page => {
          assert.equal(await page.call<boolean>('canMungeUfrag'), munging)
          const report = await page.call<DirectDialReport>('dialIdentifyPingEcho', addr, ECHO_BYTES)
          assert.equal(report.remotePeer, addr.split('/p2p/')[1])
          assert.match(report.remoteAddr, /\/webrtc-direct\/certhash\//)
          assert.equal(report.encryption, '/noise')
          assert.equal(report.multiplexer, '/webrtc')
          assert.match(report.agentVersion ?? '', kind === 'ts' ? /^ts-libp2p\// : /go-libp2p|go-peer|github.com/)
          assert.ok(report.protocols.includes('/echo/1.0.0'))
          assert.ok(report.rtt >= 0)
          assert.equal(report.echoMatches, true)
          assert.equal(report.connectionsAfterStop, 0)
        }, { lab, ...munging ? {} : { fieldTrials: [NO_SDP_MUNGING_TRIAL] } })
        await stop()
      } finally {
        lab.destroySync()
      }
    })
  }

  it('the default browser node (no transports option) dials our listener; half-close and reset', { timeout: 300_000 }, async () => {
    const lab = await createBrowserLab()
    try {
      const peer = lab.spawnNode(PEER, [lab.peerAddress])
      const addr = (await peer.nextLine(line => line.startsWith('listening '), 60_000)).split(' ')[1]
      await withBrowserPage(PAGE, async page => {
        const report = await page.call<DirectDialReport>('dialIdentifyPingEcho', addr, 1024 * 1024, true)
        assert.equal(report.multiplexer, '/webrtc')
        assert.equal(report.echoMatches, true)
        const semantics = await page.call<StreamSemanticsReport>('halfCloseAndReset', addr)
        assert.deepEqual(semantics.echoedAfterHalfClose, [7, 8, 9])
        assert.deepEqual(semantics.beforeReset, [1, 2, 3])
        assert.equal(semantics.resetError, 'StreamResetError')
      }, { lab })
      await peer.stop()
    } finally {
      lab.destroySync()
    }
  })

  // Each cycle is a new handshake: this once failed about one run in four when the server's
  // first Noise message reached the page before the page had wired channel 0 (the browser drops
  // a message with no handler; data-channel.ts now listens from the channel's creation).
  it('50 connect/ping/close cycles from Chromium to our listener: no growth in peer connections, handles or memory', { timeout: 300_000 }, async () => {
    const lab = await createBrowserLab()
    try {
      const peer = processLines(lab.peerNamespace.spawn(process.execPath, ['--expose-gc', PEER, lab.peerAddress], { stdio: ['pipe', 'pipe', 'pipe'] }))
      const addr = (await peer.nextLine(line => line.startsWith('listening '), 60_000)).split(' ')[1]
      const stats = async (): Promise<ListenerStats> => {
        peer.child.stdin?.write('stats\n')
        return JSON.parse((await peer.nextLine(l => l.startsWith('stats '))).slice('stats '.length)) as ListenerStats
      }
      const settled = async (): Promise<ListenerStats> => {
        // the listener learns of each close from SCTP/DTLS teardown, a moment after the page's
        for (let i = 0; ; i++) {
          const s = await stats()
          if ((s.peerConnections === 0 && s.connections === 0) || i === 100) return s
          await new Promise(resolve => setTimeout(resolve, 100))
        }
      }
      await withBrowserPage(PAGE, async page => {
        const warm = await page.call<CyclesReport>('connectCloseCycles', addr, 5, 0)
        assert.equal(warm.openPeerConnections, 0)
        const before = await settled()
        assert.equal(before.peerConnections, 0)
        const report = await page.call<CyclesReport>('connectCloseCycles', addr, 5, 50)
        assert.equal(report.created, 55)
        assert.equal(report.openPeerConnections, 0, 'the page closed every peer connection')
        assert.equal(report.connectionsAfter, 0)
        // the page's heap: 50 connections kept alive would hold megabytes of JS state
        assert.ok(report.heapAfter - report.heapAfterWarmUp < 8 * 1024 * 1024, `page heap grew by ${report.heapAfter - report.heapAfterWarmUp} bytes`)
        const after = await settled()
        assert.equal(after.peerConnections, 0, 'the listener released every native peer connection')
        assert.equal(after.pendingHandshakes, 0)
        assert.equal(after.connections, 0)
        assert.ok(after.handles <= before.handles, `handles ${before.handles} -> ${after.handles}`)
        assert.ok(after.heapUsed - before.heapUsed < 16 * 1024 * 1024, `listener heap grew by ${after.heapUsed - before.heapUsed} bytes`)
      }, { lab })
      await peer.stop()
    } finally {
      lab.destroySync()
    }
  })
})

interface ListenerStats { peerConnections: number, pendingHandshakes: number, connections: number, handles: number, heapUsed: number, rss: number }
