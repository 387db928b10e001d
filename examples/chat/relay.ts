/**
 * `npm run example:chat`: the chat's relay node and web server. The relay is a ts-libp2p node
 * listening on WebSockets (127.0.0.1:9090 by default) with a circuit relay v2 server and
 * gossipsub on the chat topic, so it carries the browsers' messages; the web server
 * (http://127.0.0.1:8080) serves the page, bundled from chat.ts with esbuild on start.
 *
 *   node examples/chat/relay.ts [--ws-port 9090] [--http-port 8080]   (0 = any free port)
 *
 * Prints `relay <multiaddr>` and `page <url>` once ready, then `mesh <peer id>` for each browser
 * that joins the relay's mesh for the chat topic; stops on SIGINT/SIGTERM.
 */
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { build } from 'esbuild'
import { createLibp2p } from '../../src/index.ts'
import { webSockets } from '../../src/transport/websockets/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { ping } from '../../src/protocols/ping/index.ts'
import { circuitRelayServer } from '../../src/relay/index.ts'
import { gossipsub } from '../../src/pubsub/gossipsub/index.ts'

const TOPIC = 'ts-libp2p-chat'
const { values } = parseArgs({ options: { 'ws-port': { type: 'string', default: '9090' }, 'http-port': { type: 'string', default: '8080' } } })

const relay = await createLibp2p({
  addresses: { listen: [`/ip4/127.0.0.1/tcp/${values['ws-port']}/ws`] },
  transports: [webSockets()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: { identify: identify(), ping: ping(), relay: circuitRelayServer(), pubsub: gossipsub() }
})
// subscribed, so the relay is in the topic's mesh and forwards what one browser sends to the others
relay.services.pubsub.subscribe(TOPIC)
// A browser receives what others send once it is in the relay's mesh for the topic (a message
// sent before that reaches it only as gossip, which a peer grafted in the same heartbeat misses):
// say so, for the reader of the console and for the example's test.
relay.services.pubsub.addEventListener('gossipsub:graft', evt => {
  if (evt.detail.topic === TOPIC) console.log(`mesh ${evt.detail.peerId.toString()}`)
})
const relayAddr = relay.getMultiaddrs().map(String).find(a => a.includes('/ws/'))!

const bundle = (await build({
  entryPoints: [fileURLToPath(new URL('./chat.ts', import.meta.url))],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  write: false,
  logLevel: 'warning'
})).outputFiles[0].text

const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>ts-libp2p chat</title></head>
<body>
<h1>ts-libp2p chat</h1>
<p id="status">connecting to the relay...</p>
<ul id="messages"></ul>
<form id="form"><input id="text" autocomplete="off" placeholder="say something"><button>send</button></form>
<script>globalThis.CHAT_RELAY = ${JSON.stringify(relayAddr)}</script>
<script type="module">
// the chat module is also on globalThis.entry, for the console and the example's test
try {
  globalThis.entry = await import('./chat.js')
  globalThis.entryState = 'ready'
} catch (err) {
  globalThis.entryState = 'error: ' + (err && err.stack ? err.stack : String(err))
  document.getElementById('status').textContent = String(err)
}
</script>
</body></html>
`

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname
  const [type, body] = path === '/' ? ['text/html; charset=utf-8', page] : path === '/chat.js' ? ['text/javascript; charset=utf-8', bundle] : ['text/plain', 'not found']
  res.writeHead(body === 'not found' ? 404 : 200, { 'content-type': type, 'cache-control': 'no-store' })
  res.end(body)
})
await new Promise<void>(resolve => { server.listen(Number(values['http-port']), '127.0.0.1', resolve) })
const address = server.address()
const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : values['http-port']}/`

console.log(`relay ${relayAddr}`)
console.log(`page ${url}`)
console.error(`chat: open ${url} in two browser tabs (the relay forwards the messages; WebRTC between the browsers comes with the /webrtc transport)`)

async function stop (): Promise<void> {
  server.closeAllConnections()
  server.close()
  await relay.stop()
  process.exit(0)
}
process.once('SIGINT', () => { void stop() })
process.once('SIGTERM', () => { void stop() })
