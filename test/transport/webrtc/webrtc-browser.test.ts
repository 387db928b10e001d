/**
 * `/webrtc` (specs webrtc/webrtc.md): peers that cannot listen connect directly after
 * signaling over a ts circuit relay v2 (WebSockets) in Node. Inside the browser lab's network
 * namespaces (Chromium gathers no ICE candidates on loopback): two Chromium pages, a page and a
 * ts Node peer on node-datachannel (both directions), and two Node peers. Each side pings and
 * echoes over the direct connection, whose remote address has no `/p2p-circuit`.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { processLines } from '../../support/lab/index.ts'
import type { ProcessLines } from '../../support/lab/index.ts'
import type { BrowserLab } from '../../support/browser/index.ts'
import { chromiumInNamespaceSkip, createBrowserLab, withBrowser } from '../../support/browser/index.ts'
import type { DialReport } from './fixtures/webrtc-peer.ts'

const PEER = fileURLToPath(new URL('./fixtures/webrtc-peer.ts', import.meta.url))
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const JS_PEER = fileURLToPath(new URL('../../../interop/js-peer/peer.ts', import.meta.url))
const PAGE = new URL('./fixtures/webrtc-page.ts', import.meta.url)
const ECHO_BYTES = 1024 * 1024

function spawnPeer (lab: BrowserLab, args: string[]): ProcessLines {
  return processLines(lab.peerNamespace.spawn(process.execPath, [PEER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }))
}

async function startRelay (lab: BrowserLab): Promise<{ relay: ProcessLines, relayAddr: string }> {
  const relay = spawnPeer(lab, ['relay', lab.peerAddress])
  const relayAddr = (await relay.nextLine(l => l.startsWith('relay '), 60_000)).slice('relay '.length)
  return { relay, relayAddr }
}

async function startTsPeer (lab: BrowserLab, relayAddr: string): Promise<{ peer: ProcessLines, addr: string }> {
  const peer = spawnPeer(lab, ['ts', relayAddr])
  const addr = (await peer.nextLine(l => l.startsWith('webrtc '), 60_000)).slice('webrtc '.length)
  return { peer, addr }
}

async function dialFrom (peer: ProcessLines, addr: string, bytes: number): Promise<DialReport> {
  peer.child.stdin?.write(`dial ${addr} ${bytes}\n`)
  const report = JSON.parse((await peer.nextLine(l => l.startsWith('dialed '), 90_000)).slice('dialed '.length)) as DialReport
  assert.equal(report.error, undefined, report.error)
  return report
}

interface JsPeer {
  addr: string
  peerId: string
  command<T>(cmd: string, fields?: Record<string, unknown>): Promise<T>
  stop(): Promise<void>
}

/** js-libp2p (@libp2p/webrtc, interop/js-peer) reserving on the relay and listening on /webrtc. */
async function startJsPeer (lab: BrowserLab, relayAddr: string): Promise<JsPeer> {
  const lines = processLines(lab.peerNamespace.spawn(process.execPath, [JS_PEER, '--relay', relayAddr, '--listen', '/webrtc'], { stdio: ['pipe', 'pipe', 'pipe'], cwd: REPO_ROOT }))
  const ready = JSON.parse(await lines.nextLine(l => l.includes('"event":"ready"'), 60_000)) as { peerId: string }
  let nextId = 1
  return {
    peerId: ready.peerId,
    addr: `${relayAddr}/p2p-circuit/webrtc/p2p/${ready.peerId}`,
    async command<T> (cmd: string, fields: Record<string, unknown> = {}): Promise<T> {
      const id = nextId++
      lines.child.stdin?.write(JSON.stringify({ id, cmd, ...fields }) + '\n')
      const reply = JSON.parse(await lines.nextLine(l => l.includes(`"id":${id},`), 150_000)) as { ok: boolean, error?: string } & T
      assert.equal(reply.ok, true, `js ${cmd}: ${reply.error ?? ''}\n${lines.stderr().slice(-2000)}`)
      return reply
    },
    async stop () { await lines.stop() }
  }
}

function assertDirect (report: DialReport, addr: string): void {
  assert.equal(report.remotePeer, addr.split('/p2p/').at(-1))
  assert.doesNotMatch(report.remoteAddr, /p2p-circuit/)
  assert.match(report.remoteAddr, /\/webrtc\/p2p\//)
  assert.equal(report.multiplexer, '/webrtc')
  assert.equal(report.limited, false)
  assert.ok(report.rtt >= 0)
  assert.equal(report.echoMatches, true)
}

describe('/webrtc through a ts relay', { skip: await chromiumInNamespaceSkip() }, () => {
  it('Node to Node (node-datachannel): ping and echo over the direct connection', { timeout: 180_000 }, async () => {
    const lab = await createBrowserLab()
    const stops: Array<() => Promise<void>> = []
    try {
      const { relay, relayAddr } = await startRelay(lab)
      stops.push(async () => { await relay.stop() })
      const a = await startTsPeer(lab, relayAddr)
      stops.push(async () => { await a.peer.stop() })
      const b = await startTsPeer(lab, relayAddr)
      stops.push(async () => { await b.peer.stop() })
      assertDirect(await dialFrom(a.peer, b.addr, ECHO_BYTES), b.addr)
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => {})
      lab.destroySync()
    }
  })

  it('two Chromium pages: ping and echo over the direct connection', { timeout: 240_000 }, async () => {
    const lab = await createBrowserLab()
    try {
      const { relay, relayAddr } = await startRelay(lab)
      try {
        await withBrowser(PAGE, async session => {
          const alice = await session.openPage()
          const bob = await session.openPage()
          const [aliceAddr, bobAddr] = await Promise.all([alice.call<string>('start', relayAddr), bob.call<string>('start', relayAddr)])
          const report = await alice.call<DialReport>('dialPingEcho', bobAddr, ECHO_BYTES)
          assertDirect(report, bobAddr)
          // bob sees the same direct connection, inbound
          const atBob = await bob.call<Array<{ peer: string, addr: string, limited: boolean }>>('connections')
          assert.ok(atBob.some(c => c.peer === aliceAddr.split('/p2p/').at(-1) && !c.limited && !c.addr.includes('p2p-circuit') && c.addr.includes('/webrtc/')), JSON.stringify(atBob))
          assert.equal(await alice.call<number>('stop'), 0)
          assert.equal(await bob.call<number>('stop'), 0)
        }, { lab })
      } finally {
        await relay.stop()
      }
    } finally {
      lab.destroySync()
    }
  })

  for (const dialer of ['browser', 'node'] as const) {
    it(`a Chromium page and a ts Node peer, the ${dialer} dials: ping and echo over the direct connection`, { timeout: 240_000 }, async () => {
      const lab = await createBrowserLab()
      const stops: Array<() => Promise<void>> = []
      try {
        const { relay, relayAddr } = await startRelay(lab)
        stops.push(async () => { await relay.stop() })
        const node = await startTsPeer(lab, relayAddr)
        stops.push(async () => { await node.peer.stop() })
        await withBrowser(PAGE, async session => {
          const page = await session.openPage()
          const pageAddr = await page.call<string>('start', relayAddr)
          if (dialer === 'browser') assertDirect(await page.call<DialReport>('dialPingEcho', node.addr, ECHO_BYTES), node.addr)
          else assertDirect(await dialFrom(node.peer, pageAddr, ECHO_BYTES), pageAddr)
          assert.equal(await page.call<number>('stop'), 0)
        }, { lab })
      } finally {
        for (const stop of stops.reverse()) await stop().catch(() => {})
        lab.destroySync()
      }
    })
  }

  for (const dialer of ['browser', 'js'] as const) {
    it(`interop: a Chromium page and js-libp2p (@libp2p/webrtc in Node), the ${dialer} dials: ping and echo over the direct connection`, { timeout: 240_000 }, async () => {
      const lab = await createBrowserLab()
      const stops: Array<() => Promise<void>> = []
      try {
        const { relay, relayAddr } = await startRelay(lab)
        stops.push(async () => { await relay.stop() })
        const js = await startJsPeer(lab, relayAddr)
        stops.push(async () => { await js.stop() })
        await withBrowser(PAGE, async session => {
          const page = await session.openPage()
          const pageAddr = await page.call<string>('start', relayAddr)
          const pagePeer = pageAddr.split('/p2p/').at(-1)
          if (dialer === 'browser') {
            assertDirect(await page.call<DialReport>('dialPingEcho', js.addr, ECHO_BYTES), js.addr)
          } else {
            const dialed = await js.command<{ peerId: string, remoteAddr: string, limited: boolean }>('dial', { addr: pageAddr })
            assert.equal(dialed.peerId, pagePeer)
            // (js names the connection by the address it dialed, /p2p-circuit included; it is not limited)
            assert.equal(dialed.limited, false)
            const { rtts } = await js.command<{ rtts: number[] }>('ping', { peer: pagePeer, count: 3 })
            assert.equal(rtts.length, 3)
            await js.command('echo', { peer: pagePeer, bytes: ECHO_BYTES, streams: 2 })
            // the page holds the same connection, direct and inbound
            const atPage = await page.call<Array<{ peer: string, addr: string, limited: boolean }>>('connections')
            assert.ok(atPage.some(c => c.peer === js.peerId && !c.limited && !c.addr.includes('p2p-circuit')), JSON.stringify(atPage))
          }
          assert.equal(await page.call<number>('stop'), 0)
        }, { lab })
      } finally {
        for (const stop of stops.reverse()) await stop().catch(() => {})
        lab.destroySync()
      }
    })
  }
})
