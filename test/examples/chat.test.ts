/**
 * examples/chat, as `npm run example:chat` runs it: the relay process starts (WebSockets relay +
 * web server), two Chromium pages (separate profiles) load the chat from it, join the topic,
 * connect to each other directly over WebRTC (signaled through the relay) and exchange a
 * message each way. Chromium gathers no ICE candidates on loopback, so Chromium and the relay
 * run in one network namespace of the browser lab (the relay still listens on its 127.0.0.1).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { processLines } from '../support/lab/index.ts'
import { chromiumInNamespaceSkip, createBrowserLab, withBrowser } from '../support/browser/index.ts'
import type { ChatMessage } from '../../examples/chat/chat.ts'

const RELAY = fileURLToPath(new URL('../../examples/chat/relay.ts', import.meta.url))

describe('examples/chat', { skip: await chromiumInNamespaceSkip() }, () => {
  it('two browsers connect directly over WebRTC after meeting at the relay node: a message arrives each way', { timeout: 180_000 }, async () => {
    const lab = await createBrowserLab({ shared: true })
    const relay = lab.spawnNode(RELAY, ['--ws-port', '0', '--http-port', '0'])
    try {
      const relayAddr = (await relay.nextLine(l => l.startsWith('relay '), 60_000)).slice('relay '.length)
      const url = (await relay.nextLine(l => l.startsWith('page '))).slice('page '.length)
      assert.match(relayAddr, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\/12D3KooW/)
      const relayPeer = relayAddr.split('/p2p/')[1]
      await withBrowser({ url }, async session => {
        const alice = await session.openPage()
        const bob = await session.openPage()
        await Promise.all([alice.call('joined'), bob.call('joined')])
        const exported = async (page: typeof alice, name: string): Promise<string> => await page.page.evaluate(n => (globalThis as unknown as { entry: Record<string, string> }).entry[n], name)
        const [aliceNick, bobNick, alicePeer, bobPeer] = await Promise.all([exported(alice, 'nick'), exported(bob, 'nick'), exported(alice, 'peerId'), exported(bob, 'peerId')])
        assert.notEqual(aliceNick, bobNick)
        // both are in the relay's mesh: from now on a message reaches the other at once
        const inMesh = new Set<string>()
        while (!inMesh.has(alicePeer) || !inMesh.has(bobPeer)) inMesh.add((await relay.nextLine(l => l.startsWith('mesh '))).slice('mesh '.length))
        // the pages said hello with their /webrtc addresses and one dialed the other
        const [aliceToBob, bobToAlice] = await Promise.all([alice.call<{ addr: string }>('directTo', bobPeer), bob.call<{ addr: string }>('directTo', alicePeer)])
        for (const { addr } of [aliceToBob, bobToAlice]) assert.match(addr, /\/webrtc\/p2p\//)
        // and gossipsub meshes them over it
        await Promise.all([alice.call('meshWith', bobPeer), bob.call('meshWith', alicePeer)])

        await alice.call('send', 'hello from alice')
        const atBob = await bob.call<ChatMessage>('waitForMessage', 'hello from alice')
        assert.equal(atBob.from, aliceNick)
        await bob.call('send', 'hello back from bob')
        const atAlice = await alice.call<ChatMessage>('waitForMessage', 'hello back from bob')
        assert.equal(atAlice.from, bobNick)
        // the page shows it too
        assert.match(await alice.page.locator('#messages').innerText(), /hello back from bob/)

        for (const [page, other] of [[alice, bobPeer], [bob, alicePeer]] as const) {
          const connections = await page.call<Array<{ peer: string, addr: string }>>('connections')
          assert.deepEqual(new Set(connections.map(c => c.peer)), new Set([relayPeer, other]))
        }
      }, { lab })
    } finally {
      await relay.stop()
      lab.destroySync()
    }
  })
})
