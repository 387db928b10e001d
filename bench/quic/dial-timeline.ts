/**
 * Merges the datagram traces of a QUIC client and server (bench/quic/trace-datagrams.ts) into
 * one timeline per dial and prints, for the most common datagram sequence, the median and the
 * minimum time between consecutive datagrams. A gap after a receive is that side's work before
 * its answer (or a wait: a timer shows as a gap far above the side's CPU); a gap after a send
 * is the loopback hop and the receiver's wake-up. `--show N` also prints the last N dials whole.
 *
 *   node bench/quic/dial-timeline.ts DIR [--skip 100] [--show 2]
 *
 * `--skip`: dials at the start left out (the warm-up of profile-dial.ts). A dial starts with a
 * client Initial sent while the client's last received datagram was not an Initial.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { DatagramEvent } from './trace-datagrams.ts'

type Side = 'C' | 'S'
interface Event { time: number, side: Side, dir: 'S' | 'R', size: number, kind: string }

function flag (name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? undefined : process.argv[i + 1]
}

/** The packet type of a datagram's first packet (RFC 9000 17.2: long header types; else 1-RTT). */
function kindOf (firstByte: number): string {
  if ((firstByte & 0x80) === 0) return '1RTT'
  return ['Init', '0RTT', 'Hs', 'Retry'][(firstByte >> 4) & 3]
}

const dir = process.argv[2]
if (dir === undefined || dir.startsWith('--')) throw new Error('usage: dial-timeline.ts DIR [--skip N] [--show N]')
const events: Event[] = []
for (const name of readdirSync(dir).filter(n => n.startsWith('trace-') && n.endsWith('.json'))) {
  const trace = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { argv: string[], events: DatagramEvent[] }
  const side: Side = trace.argv.join(' ').includes('--role client') ? 'C' : 'S'
  for (const [time, d, size, first] of trace.events) events.push({ time, side, dir: d, size, kind: kindOf(first) })
}
events.sort((a, b) => a.time - b.time)

const starts: number[] = []
let lastClientReceived = ''
events.forEach((e, i) => {
  if (e.side !== 'C') return
  if (e.dir === 'R') { lastClientReceived = e.kind; return }
  if (e.kind === 'Init' && lastClientReceived !== 'Init') { starts.push(i); lastClientReceived = 'start' }
})

const skip = Number(flag('skip') ?? 0)
const dials: Event[][] = []
for (let k = skip; k < starts.length - 1; k++) {
  const dial = events.slice(starts[k], starts[k + 1])
  // The previous connection's last datagrams may reach the server after this dial began.
  const serverFirst = dial.findIndex(e => e.side === 'S' && e.kind === 'Init')
  dials.push(dial.filter((e, i) => !(e.side === 'S' && e.dir === 'R' && e.kind === '1RTT' && (serverFirst === -1 || i < serverFirst))))
}
const label = (e: Event): string => `${e.side}${e.dir} ${e.kind}`
const bySequence = new Map<string, Event[][]>()
for (const dial of dials) {
  const key = dial.map(label).join(', ')
  bySequence.set(key, [...bySequence.get(key) ?? [], dial])
}
const ranked = [...bySequence.entries()].sort((a, b) => b[1].length - a[1].length)
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
process.stdout.write(`${dials.length} dials, ${ranked.length} datagram sequences (C/S: client/server, S/R: sent/received)\n`)
const [sequence, group] = ranked[0] ?? ['', []]
if (group.length > 0) {
  process.stdout.write(`most common (${group.length} dials): ${sequence}\n`)
  const steps = group[0].length
  for (let i = 1; i < steps; i++) {
    const gaps = group.map(d => d[i].time - d[i - 1].time)
    process.stdout.write(`  ${label(group[0][i - 1]).padEnd(10)} -> ${label(group[0][i]).padEnd(10)} ${String(group[0][i].size).padStart(5)} B  median ${median(gaps).toFixed(3)} ms  min ${Math.min(...gaps).toFixed(3)} ms\n`)
  }
  const totals = group.map(d => d[d.length - 1].time - d[0].time)
  process.stdout.write(`  first to last datagram: median ${median(totals).toFixed(3)} ms\n`)
}
for (const [key, list] of ranked.slice(1, 4)) process.stdout.write(`also (${list.length} dials): ${key}\n`)
const show = Number(flag('show') ?? 0)
for (const dial of dials.slice(-show)) {
  if (show === 0) break
  process.stdout.write('--- dial\n')
  for (const e of dial) process.stdout.write(`${(e.time - dial[0].time).toFixed(3).padStart(8)} ${label(e).padEnd(10)} ${e.size}\n`)
}
