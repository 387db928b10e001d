import { transfer, openStreams, makeNode } from './pair.ts'
const s = await makeNode('noise+yamux', 'on'); const c = await makeNode('noise+yamux', 'on')
let ns = 0n; let calls = 0; const by = [0n, 0n, 0n]; const samples: number[][] = [[], [], []]
const now = process.hrtime.bigint
for (const n of [s, c]) {
  const rm = (n as any).resourceManager
  const os = rm.openStream.bind(rm)
  rm.openStream = (...a: any[]) => {
    let t = now(); const r = os(...a); const d0 = now() - t; ns += d0; by[0] += d0; samples[0].push(Number(d0)); calls++
    const sp = r.setProtocol; const d = r.done
    return { setProtocol: (p: string) => { t = now(); sp(p); const d1 = now() - t; ns += d1; by[1] += d1; samples[1].push(Number(d1)); calls++ }, done: () => { t = now(); d(); const d2 = now() - t; ns += d2; by[2] += d2; samples[2].push(Number(d2)); calls++ } }
  }
}
// the timer's own cost
let empty = 0n
for (let i = 0; i < 100000; i++) { const t = now(); empty += now() - t }
const conn = await c.dial(s.getMultiaddrs()[0])
await transfer(conn, 1024 * 1024)
await openStreams(conn, 200)
ns = 0n; calls = 0; by[0] = by[1] = by[2] = 0n; samples.forEach(x => { x.length = 0 })
const cpu = process.cpuUsage()
const m = await openStreams(conn, 2000)
const used = process.cpuUsage(cpu)
console.log('medians', samples.map(x => { const y = [...x].sort((a, b) => a - b); return [y[y.length >> 1], y[Math.floor(y.length * 0.9)], y[Math.floor(y.length * 0.99)]] })); console.log('by call (ns per call, open/setProtocol/done)', by.map(x => Number(x) / 4000)); console.log('in-situ ns per RM call', Number(ns) / calls - Number(empty) / 100000, 'calls', calls, 'per open us', (Number(ns) / 2000 - Number(empty) / 100000 * calls / 2000) / 1000, 'cpu per open us', (used.user + used.system) / 2000, 'timer ns', Number(empty) / 100000)
await c.stop(); await s.stop()
