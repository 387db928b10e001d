/**
 * ts-libp2p's Bitswap behind the same line contract as interop/js-peer/helia-peer.ts (ready line,
 * then dial / add / get / stop commands), so the exchange benchmark drives ours and helia the
 * same way: each in its own process, TCP + Noise + Yamux, blocks in memory.
 */
import { createInterface } from 'node:readline'
import { createReadStream, createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { createLibp2p, multiaddr } from '../../src/index.ts'
import { identify } from '../../src/protocols/identify/index.ts'
import { bitswap } from '../../src/exchange/bitswap/index.ts'
import { addFile, catFile } from '../../src/exchange/unixfs/index.ts'
import { parseCid } from '../../src/exchange/cid.ts'

const node = await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  connectionManager: { inboundConnectionThreshold: 100_000 },
  services: { identify: identify(), bitswap: bitswap() }
})
const write = (obj: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(obj) + '\n') }
write({ event: 'ready', peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map(a => a.toString()) })

async function run (cmd: Record<string, any>): Promise<Record<string, unknown>> {
  switch (cmd.cmd) {
    case 'dial':
      await node.dial(multiaddr(cmd.addr))
      return {}
    case 'add': {
      const started = performance.now()
      const { cid } = await addFile(createReadStream(cmd.path, { highWaterMark: 1 << 20 }), node.services.bitswap.blockstore, { cidVersion: cmd.cidVersion === 1 ? 1 : 0 })
      return { cid: cid.toString(), ms: performance.now() - started }
    }
    case 'get': {
      const out = createWriteStream(cmd.path)
      const started = performance.now()
      const cpu = process.cpuUsage()
      let bytes = 0
      for await (const chunk of catFile(parseCid(cmd.cid), node.services.bitswap.createSession(), { signal: AbortSignal.timeout(cmd.timeoutMs ?? 600_000) })) {
        bytes += chunk.length
        if (!out.write(chunk)) await once(out, 'drain')
      }
      out.end()
      await once(out, 'finish')
      const used = process.cpuUsage(cpu)
      return { bytes, ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 }
    }
    case 'stop':
      await node.stop()
      setImmediate(() => process.exit(0))
      return {}
    default:
      throw new Error(`unknown command ${String(cmd.cmd)}`)
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue
  const cmd = JSON.parse(line) as Record<string, any>
  run(cmd).then(r => { write({ id: cmd.id, ok: true, ...r }) }, (err: Error) => { write({ id: cmd.id, ok: false, error: `${err.name}: ${err.message}` }) })
}
await node.stop()
