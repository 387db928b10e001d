/**
 * examples/chat, as `npm run example:chat` runs it: the relay process starts (WebSockets relay +
 * web server), two Chromium pages (separate profiles) load the chat from it, join the topic and
 * exchange a message each way. Today both pages are connected to the relay only (the relay
 * forwards the topic); when /webrtc lands the pages should also hold a direct connection.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { processLines } from '../support/lab/index.ts'
import { chromiumSkip, withBrowser } from '../support/browser/index.ts'
import type { ChatMessage } from '../../examples/chat/chat.ts'

const RELAY = fileURLToPath(new URL('../../examples/chat/relay.ts', import.meta.url))

describe('examples/chat', { skip: chromiumSkip() }, () => {
  it('two browsers chat through the relay node: a message arrives each way', { timeout: 120_000 }, async () => {
    const relay = processLines(spawn(process.execPath, [RELAY, '--ws-port', '0', '--http-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] }))
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

        await alice.call('send', 'hello from alice')
        const atBob = await bob.call<ChatMessage>('waitForMessage', 'hello from alice')
        assert.equal(atBob.from, aliceNick)
        await bob.call('send', 'hello back from bob')
        const atAlice = await alice.call<ChatMessage>('waitForMessage', 'hello back from bob')
        assert.equal(atAlice.from, bobNick)
        // the page shows it too
        assert.match(await alice.page.locator('#messages').innerText(), /hello back from bob/)

        for (const page of [alice, bob]) {
          const connections = await page.call<Array<{ peer: string, addr: string }>>('connections')
          assert.deepEqual(connections.map(c => c.peer), [relayPeer], 'until /webrtc lands, each page is connected to the relay only')
        }
      })
    } finally {
      await relay.stop()
    }
  })
})
