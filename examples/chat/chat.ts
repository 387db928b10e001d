/**
 * The chat page's node: a browser libp2p node that joins the gossipsub topic `ts-libp2p-chat`
 * through the example's relay node (a WebSocket connection; the relay forwards the topic's
 * messages). Each page also listens on `<relay>/p2p-circuit/webrtc` and says hello on the topic
 * with that address; on a hello from a page it has no direct connection to, the page with the
 * smaller peer id dials it over WebRTC (signaled through the relay), and from then on gossipsub
 * carries the chat over that direct connection too. When WebRTC cannot connect (no usable ICE
 * candidates), the chat goes on through the relay.
 *
 * Loaded by index.html, which the relay serves with the relay's address in `globalThis.CHAT_RELAY`.
 */
import { createLibp2p, multiaddr } from '../../src/index.ts'
import { webSockets } from '../../src/transport/websockets/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { gossipsub } from '../../src/pubsub/gossipsub/index.ts'
import { circuitRelayTransport } from '../../src/relay/index.ts'
import { webRTC } from '../../src/transport/webrtc/webrtc.ts'

export const TOPIC = 'ts-libp2p-chat'

export interface ChatMessage { from: string, text: string }
/** A page's announcement of its `/webrtc` address (not shown in the chat). */
interface Hello { hello: string }

const relayAddr = multiaddr((globalThis as { CHAT_RELAY?: string }).CHAT_RELAY ?? '')
const node = await createLibp2p({
  addresses: { listen: [`${relayAddr.toString()}/p2p-circuit/webrtc`] },
  transports: [webSockets(), circuitRelayTransport(), webRTC()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: { identify: identify(), pubsub: gossipsub() }
})
const received: ChatMessage[] = []
const waiters = new Set<() => void>()

node.services.pubsub.addEventListener('message', evt => {
  if (evt.detail.topic !== TOPIC) return
  try {
    const message = JSON.parse(new TextDecoder().decode(evt.detail.data)) as ChatMessage & Partial<Hello>
    if (typeof message.hello === 'string') {
      onHello(message.hello)
      return
    }
    if (typeof message.text !== 'string' || typeof message.from !== 'string') return
    received.push({ from: message.from.slice(0, 64), text: message.text.slice(0, 1000) })
    show(received[received.length - 1])
    for (const wake of [...waiters]) wake()
  } catch {} // not a chat message: ignore it
})
for (const event of ['subscription-change', 'gossipsub:graft', 'gossipsub:prune'] as const) {
  node.services.pubsub.addEventListener(event, () => { for (const wake of [...waiters]) wake() })
}
node.services.pubsub.subscribe(TOPIC)
await node.dial(relayAddr)
node.addEventListener('connection:open', () => { for (const wake of [...waiters]) wake() })

/** Our `<relay>/p2p-circuit/webrtc/p2p/<us>` address, once the relay gave us a reservation. */
function webRTCAddr (): string | undefined {
  return node.getMultiaddrs().map(String).find(a => a.includes('/p2p-circuit/webrtc/'))
}

async function sayHello (): Promise<void> {
  const addr = webRTCAddr()
  if (addr === undefined) return
  await node.services.pubsub.publish(TOPIC, new TextEncoder().encode(JSON.stringify({ hello: addr })))
}

const greeted = new Set<string>()
function onHello (addr: string): void {
  let peer: string
  try {
    peer = multiaddr(addr).getComponents().at(-1)?.value ?? ''
  } catch { return }
  if (peer === '' || peer === peerId || greeted.has(peer)) return
  greeted.add(peer)
  // the newcomer has not heard from us yet
  void sayHello().catch(() => {})
  // one side dials, so the pages do not open two connections
  if (peerId < peer) {
    void node.dial(multiaddr(addr)).then(() => { for (const wake of [...waiters]) wake() }, () => {
      // no direct path (no usable ICE candidates): the chat goes on through the relay
    })
  }
}

/** Our name in the chat: the end of our peer id. */
export const nick = node.peerId.toString().slice(-6)

export async function send (text: string): Promise<void> {
  await node.services.pubsub.publish(TOPIC, new TextEncoder().encode(JSON.stringify({ from: nick, text })))
  show({ from: `${nick} (me)`, text })
}

export function messages (): ChatMessage[] {
  return [...received]
}

/** Our peer id. */
export const peerId = node.peerId.toString()

/** Resolves once the relay is in our mesh for the topic (we grafted it; it learns so at once). */
export async function joined (timeoutMs = 10_000): Promise<void> {
  await until(() => node.services.pubsub.getMeshPeers(TOPIC).length > 0, 'the relay did not join our mesh', timeoutMs)
}

/** Resolves once we hold a direct (WebRTC, not relayed) connection to `peer`. */
export async function directTo (peer: string, timeoutMs = 30_000): Promise<{ addr: string }> {
  const find = () => node.getConnections().find(c => c.remotePeer.toString() === peer && c.limits === undefined && !c.remoteAddr.toString().includes('/p2p-circuit'))
  await until(() => find() !== undefined, `no direct connection to ${peer}`, timeoutMs)
  return { addr: find()!.remoteAddr.toString() }
}

/** Resolves when a message with `text` has arrived. */
export async function waitForMessage (text: string, timeoutMs = 15_000): Promise<ChatMessage> {
  await until(() => received.some(m => m.text === text), `no message "${text}"`, timeoutMs)
  return received.find(m => m.text === text)!
}

/** Resolves once `peer` is in our mesh for the topic (then the chat flows over our direct connection). */
export async function meshWith (peer: string, timeoutMs = 15_000): Promise<void> {
  await until(() => node.services.pubsub.getMeshPeers(TOPIC).some(p => p.toString() === peer), `${peer} did not join our mesh`, timeoutMs)
}

export function connections (): Array<{ peer: string, addr: string }> {
  return node.getConnections().map(c => ({ peer: c.remotePeer.toString(), addr: c.remoteAddr.toString() }))
}

async function until (done: () => boolean, what: string, timeoutMs: number): Promise<void> {
  if (done()) return
  await new Promise<void>((resolve, reject) => {
    const check = (): void => { if (done()) finish() }
    const finish = (error?: Error): void => {
      clearTimeout(timer)
      waiters.delete(check)
      if (error === undefined) resolve(); else reject(error)
    }
    const timer = setTimeout(() => { finish(new Error(`${what} within ${timeoutMs} ms`)) }, timeoutMs)
    waiters.add(check)
  })
}

function show (message: ChatMessage): void {
  if (typeof document === 'undefined') return
  const line = document.createElement('li')
  line.textContent = `${message.from}: ${message.text}`
  document.getElementById('messages')?.append(line)
}

// Say hello (our /webrtc address) once the relay has reserved for us and is in our mesh.
void (async () => {
  await joined(60_000)
  while (webRTCAddr() === undefined) await new Promise(resolve => { node.addEventListener('self:peer:update', resolve, { once: true }) })
  await sayHello()
})().catch(err => { console.warn('no direct connections: %s', err) })

if (typeof document !== 'undefined') {
  const form = document.getElementById('form') as HTMLFormElement | null
  const input = document.getElementById('text') as HTMLInputElement | null
  const status = document.getElementById('status')
  if (status !== null) status.textContent = `you are ${nick}, connected to the relay`
  form?.addEventListener('submit', evt => {
    evt.preventDefault()
    if (input === null || input.value === '') return
    void send(input.value).catch(err => { show({ from: 'error', text: String(err) }) })
    input.value = ''
  })
}
