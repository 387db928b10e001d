/**
 * A helia node (js-libp2p + @helia/bitswap + @helia/unixfs) behind the interop control contract
 * of interop/README.md, for the Bitswap interop tests. Only local transports and routers: TCP,
 * Noise, Yamux, identify and (with `--dht`) the Kademlia DHT in server mode on loopback; no
 * delegated routing, no HTTP gateways, so nothing leaves the machine.
 *
 *   node interop/js-peer/helia-peer.ts [--listen MA] [--dht]
 *
 * Commands (one JSON object per line on stdin, one reply each on stdout):
 *   {"cmd":"dial","addr":MA}
 *   {"cmd":"add","path":FILE,"cidVersion":0|1}     -> {"cid"}   (kubo's settings for that version)
 *   {"cmd":"get","cid":CID,"path":FILE}           -> {"bytes","ms","cpuMs"} (writes the file)
 *   {"cmd":"provide","cid":CID}                   (announces it on the DHT)
 *   {"cmd":"dht.routingTable"}                    -> {"peers":[peer id...]}
 *   {"cmd":"findProviders","cid":CID}             -> {"providers":[{"id","addrs"}]} (helia's routing)
 *   {"cmd":"stop"}
 */
import { createInterface } from 'node:readline'
import { createReadStream, createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { createHeliaLight } from 'helia'
import { withLibp2pLight } from '@helia/libp2p'
import { withBitswap } from '@helia/bitswap'
import { unixfs } from '@helia/unixfs'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import { peerIdFromCID } from '@libp2p/peer-id'


const args = process.argv.slice(2)
const listen: string[] = []
let dht = false
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--listen') listen.push(args[++i])
  else if (args[i] === '--dht') dht = true
  else { process.stderr.write(`unknown argument ${args[i]}\n`); process.exit(2) }
}
if (listen.length === 0) listen.push('/ip4/127.0.0.1/tcp/0')

function write (obj: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

const services: Record<string, any> = { identify: identify(), ping: ping() }
if (dht) services.dht = kadDHT({ protocol: '/ipfs/kad/1.0.0', peerInfoMapper: passthroughMapper, clientMode: false })

const helia = withBitswap(withLibp2pLight(createHeliaLight({}), {
  addresses: { listen },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services
}))
await helia.start()
const libp2p = helia.libp2p as any
if (dht) await libp2p.services.dht.setMode('server')
const fs = unixfs(helia)

libp2p.addEventListener('peer:connect', (evt: any) => { write({ event: 'peer:connect', peerId: evt.detail.toString() }) })
write({ event: 'ready', peerId: libp2p.peerId.toString(), addrs: libp2p.getMultiaddrs().map((a: any) => a.toString()) })

async function run (cmd: Record<string, any>): Promise<Record<string, unknown>> {
  switch (cmd.cmd) {
    case 'dial':
      await libp2p.dial(multiaddr(cmd.addr))
      return {}
    case 'add': {
      const v1 = cmd.cidVersion === 1
      const cid = await fs.addByteStream(createReadStream(cmd.path, { highWaterMark: 1 << 20 }), {
        // kubo's settings (helia's own defaults differ: 1 MiB chunks, 1024 links per node)
        cidVersion: v1 ? 1 : 0,
        rawLeaves: v1,
        chunker: fixedSize({ chunkSize: 262_144 }),
        layout: balanced({ maxChildrenPerNode: 174 })
      } as any)
      return { cid: cid.toString() }
    }
    case 'get': {
      const out = createWriteStream(cmd.path)
      const started = performance.now()
      const cpu = process.cpuUsage()
      let bytes = 0
      for await (const chunk of fs.cat(CID.parse(cmd.cid), { signal: AbortSignal.timeout(cmd.timeoutMs ?? 120_000) })) {
        bytes += chunk.length
        if (!out.write(chunk)) await once(out, 'drain')
      }
      out.end()
      await once(out, 'finish')
      const used = process.cpuUsage(cpu)
      return { bytes, ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 }
    }
    case 'provide':
      await helia.routing.provide(CID.parse(cmd.cid), { signal: AbortSignal.timeout(60_000) })
      return {}
    case 'dht.routingTable':
      return { peers: dht ? [...libp2p.services.dht.routingTable.kb.toIterable()].map((c: any) => c.peerId.toString()) : [] }
    case 'findProviders': {
      const providers: Array<Record<string, unknown>> = []
      for await (const p of helia.routing.findProviders(CID.parse(cmd.cid), { signal: AbortSignal.timeout(cmd.timeoutMs ?? 30_000) })) {
        providers.push({ id: peerIdFromCID(p.id).toString(), addrs: p.multiaddrs.map((a: any) => a.toString()) })
        break
      }
      return { providers }
    }
    case 'stop':
      await helia.stop()
      setImmediate(() => process.exit(0))
      return {}
    default:
      throw new Error(`unknown command ${String(cmd.cmd)}`)
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue
  let cmd: Record<string, any>
  try { cmd = JSON.parse(line) } catch { write({ id: null, ok: false, error: 'bad JSON' }); continue }
  run(cmd).then(r => { write({ id: cmd.id, ok: true, ...r }) }, (err: Error) => {
    process.stderr.write(`[helia-peer] ${cmd.cmd} failed: ${err.stack ?? err.message}\n`)
    write({ id: cmd.id, ok: false, error: `${err.name}: ${err.message}` })
  })
}
await helia.stop()
