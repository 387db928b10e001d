/**
 * `npm run bench:webrtc:browser`: the Chromium half of bench:webrtc. Real Chromium (the test
 * harness, test/support/browser/) runs ts-libp2p's browser build and dials a WebRTC Direct server,
 * ts-libp2p's and then js-libp2p's (the bench peers of bench/peers/, node-datachannel both), in
 * the browser lab's network namespaces (Chromium gathers no ICE candidates on loopback):
 * - dial + first ping on a fresh connection, ms (median and p99 of `--setup` dials);
 * - one stream, `--bytes` uploaded and downloaded, MiB/s;
 * - memory per WebRTC connection on the listener: the server's heap and RSS (after GC) with
 *   `--hold` connections from the page open, minus before, divided by `--hold`; measured
 *   first, after one warm-up connection, before the transfers raise RSS's high-water mark.
 * The dialer is the same for both sides (ours), so the figures compare the listeners. Needs root
 * and `ip netns` (as the WebRTC Chromium tests).
 *
 *   node bench/webrtc/browser.ts            # 32 MiB, 30 dials, 50 held connections
 *   node bench/webrtc/browser.ts --quick    # 2 MiB, 5 dials, 10 held connections
 *
 * Results: bench/results/webrtc-browser.json and webrtc-browser.md (or --out DIR).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnPeer } from '../lib/child.ts'
import type { PeerProcess } from '../lib/child.ts'
import { summarize } from '../lib/stats.ts'
import { chromiumInNamespaceSkip, createBrowserLab, withBrowserPage } from '../../test/support/browser/index.ts'
import type { PageFigures } from './browser-page.ts'

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined }
const quick = args.includes('--quick')
const MiB = 1024 * 1024
const bytes = Number(flag('bytes') ?? (quick ? 2 : 32)) * MiB
const setup = Number(flag('setup') ?? (quick ? 5 : 30))
const holdCount = Number(flag('hold') ?? (quick ? 10 : 50))
const sides = (flag('sides') ?? 'ts,js').split(',')
const outDir = flag('out') ?? fileURLToPath(new URL('../results/', import.meta.url))
const PAGE = new URL('./browser-page.ts', import.meta.url)
const peerScript = (side: string): string => fileURLToPath(new URL(`../peers/${side}-peer.ts`, import.meta.url))

interface SideFigures {
  side: string
  dialPingMs: ReturnType<typeof summarize>
  uploadMiBs: number
  downloadMiBs: number
  heapPerConnectionKiB: number
  rssPerConnectionKiB: number
}

/** Waits (bounded) until the server has closed every connection the page closed. */
async function serverIdle (server: PeerProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (Number((await server.command('waitConnections', { count: 0 })).connections) === 0) return
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  throw new Error('the server still holds connections 10 s after the page closed them')
}

const skip = await chromiumInNamespaceSkip()
if (skip !== false) {
  console.error(`bench:webrtc:browser cannot run here: ${String(skip)}`)
  process.exit(1)
}

const results: SideFigures[] = []
const failures: Array<{ side: string, error: string }> = []
for (const side of sides) {
  const lab = await createBrowserLab()
  try {
    const server = await spawnPeer({ script: peerScript(side), args: ['--role', 'server', '--stack', 'webrtc-direct', '--identify', '0', '--host', lab.peerAddress], name: `${side} webrtc-direct server`, netns: lab.peerNamespace.name })
    try {
      const addr = String((server.ready.addrs as string[])[0])
      await withBrowserPage(PAGE, async page => {
        // Memory first, on a server that served one warm-up connection only: measured after
        // the transfers, the RSS high-water mark they left absorbed the held connections'
        // native memory (freed pages are reused, RSS rarely shrinks): 38 KiB RSS per
        // connection, less than its JS heap alone.
        await page.call('hold', addr, 1)
        await page.call('release')
        await serverIdle(server)
        const before = await server.command('mem')
        await page.call('hold', addr, holdCount)
        await server.command('waitConnections', { count: holdCount })
        const after = await server.command('mem')
        await page.call('release')
        await serverIdle(server)
        const figures = await page.call<PageFigures>('run', addr, bytes, setup)
        results.push({
          side,
          dialPingMs: summarize(figures.dialPingMs),
          uploadMiBs: bytes / MiB / (figures.uploadMs / 1000),
          downloadMiBs: bytes / MiB / (figures.downloadMs / 1000),
          heapPerConnectionKiB: (Number(after.heapUsed) - Number(before.heapUsed)) / holdCount / 1024,
          rssPerConnectionKiB: (Number(after.rss) - Number(before.rss)) / holdCount / 1024
        })
        console.log(JSON.stringify(results[results.length - 1]))
      }, { lab })
    } finally {
      await server.stop()
    }
  } catch (err) {
    // one side failing is a figure too: recorded, and the other side still runs
    failures.push({ side, error: (err as Error).message.split('\n').slice(0, 3).join(' ') })
    console.error(`${side}: ${(err as Error).message}`)
  } finally {
    lab.destroySync()
  }
}

const f = (n: number, digits = 1): string => n.toFixed(digits)
const md = [
  '# WebRTC Direct, Chromium dialer (ts-libp2p\'s browser build) to a Node listener',
  '',
  `Chromium in a network namespace, listener in another (veth); ${bytes / MiB} MiB per direction, ${setup} dials, ${holdCount} connections held for the memory figure.`,
  '',
  '| listener | dial + first ping median / p99 (ms) | upload (MiB/s) | download (MiB/s) | heap per connection (KiB) | RSS per connection (KiB) |',
  '|---|---|---|---|---|---|',
  ...results.map(r => `| ${r.side} | ${f(r.dialPingMs.median)} / ${f(r.dialPingMs.p99)} | ${f(r.uploadMiBs)} | ${f(r.downloadMiBs)} | ${f(r.heapPerConnectionKiB)} | ${f(r.rssPerConnectionKiB)} |`),
  ...failures.map(x => `| ${x.side} | failed: ${x.error.replace(/\|/g, '/')} | | | | |`),
  ''
].join('\n')
await mkdir(outDir, { recursive: true })
await writeFile(join(outDir, 'webrtc-browser.json'), JSON.stringify({ bytes, setup, hold: holdCount, results, failures }, null, 2) + '\n')
await writeFile(join(outDir, 'webrtc-browser.md'), md)
console.log(md)
