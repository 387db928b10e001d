/**
 * QUIC packet protection throughput: seal and open (AEAD plus header-protection mask) per MiB
 * for AES-128-GCM and ChaCha20-Poly1305, at the 1200-byte minimum datagram, the common
 * 1452-byte Ethernet path and a large loopback datagram. One process, no peers: this is the
 * ceiling the QUIC transport's crypto sets, to read beside the transport benchmarks.
 *
 *   node bench/quic/packet-protection.ts            # ~64 MiB per case
 *   node bench/quic/packet-protection.ts --quick    # 2 MiB per case (a smoke check)
 */
import { TrafficKeys } from '../../src/transport/quic/crypto/packet-protection.node.ts'
import type { QuicAeadName } from '../../src/transport/quic/crypto/types.ts'

const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1'
const MiB = 2 ** 20
const totalBytes = (quick ? 2 : 64) * MiB
const SECRET = new Uint8Array(32).fill(0x5a)
const HEADER = Uint8Array.from([0x41, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 1])

interface CaseResult { aead: QuicAeadName, packetSize: number, sealMiBps: number, openMiBps: number, microsPerMiBSeal: number }

function run (aead: QuicAeadName, packetSize: number): CaseResult {
  const protector = new TrafficKeys(aead, SECRET).protector
  const payload = new Uint8Array(packetSize - HEADER.length - protector.tagLength).fill(0xab)
  const packets = Math.ceil(totalBytes / payload.length)
  const sealed: Uint8Array[] = new Array(Math.min(packets, 1024))
  const sealedNumbers: number[] = new Array(sealed.length)
  // Warm up the cipher paths before timing.
  for (let i = 0; i < 200; i++) protector.open(i, HEADER, protector.seal(i, HEADER, payload))

  let start = process.hrtime.bigint()
  for (let pn = 0; pn < packets; pn++) {
    const out = protector.seal(pn, HEADER, payload)
    protector.headerProtectionMask(out.subarray(4, 20))
    sealed[pn % sealed.length] = out
    sealedNumbers[pn % sealed.length] = pn
  }
  const sealNs = Number(process.hrtime.bigint() - start)

  start = process.hrtime.bigint()
  for (let pn = 0; pn < packets; pn++) {
    const slot = pn % sealed.length
    protector.headerProtectionMask(sealed[slot].subarray(4, 20))
    protector.open(sealedNumbers[slot], HEADER, sealed[slot])
  }
  const openNs = Number(process.hrtime.bigint() - start)
  const mib = (packets * payload.length) / MiB
  return { aead, packetSize, sealMiBps: mib / (sealNs / 1e9), openMiBps: mib / (openNs / 1e9), microsPerMiBSeal: sealNs / 1e3 / mib }
}

const results: CaseResult[] = []
for (const aead of ['AES-128-GCM', 'ChaCha20-Poly1305'] as const) {
  for (const size of [1200, 1452, 8192]) results.push(run(aead, size))
}
console.log('| AEAD | datagram | seal MiB/s | open MiB/s | seal µs per MiB |')
console.log('|---|---|---|---|---|')
for (const r of results) console.log(`| ${r.aead} | ${r.packetSize} B | ${r.sealMiBps.toFixed(0)} | ${r.openMiBps.toFixed(0)} | ${r.microsPerMiBSeal.toFixed(0)} |`)
