/**
 * The soak in `npm test`: `npm run soak`'s script for 2 minutes (scripts/soak.ts: honest
 * connection and stream churn, attackers holding idle connections and flooding unknown
 * protocols, neighbours running DHT queries and GossipSub traffic). After a 30 s warm-up the heap (after GC) stays flat, honest visits keep
 * succeeding, DHT queries and pubsub messages keep flowing, and once the node stops no handle of its own is left.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const SCRIPT = fileURLToPath(new URL('../../scripts/soak.ts', import.meta.url))
const HEAP_GROWTH_BOUND_MIB = 16

interface Sample { seconds: number, heapMiB: number, rssMiB: number, honestRounds: number, honestFailures: number, attackRounds: number, dhtQueries: number, dhtFailures: number, pubsubPublished: number, pubsubReceived: number, beforeStop?: boolean, final?: boolean, handlesAtStart?: number, handlesLeft?: string[] }

test('soak, 2 minutes: flat heap after warm-up, honest peers served, no handle left', { timeout: 240_000 }, async () => {
  const child = spawn(process.execPath, ['--expose-gc', SCRIPT, '--minutes', '2', '--every', '10'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d })
  const code = await new Promise<number | null>(resolve => { child.once('close', resolve) })
  assert.equal(code, 0, err)
  const samples = out.trim().split('\n').map(line => JSON.parse(line) as Sample)
  process.stdout.write(`# soak: ${samples.map(s => `${s.seconds}s heap ${s.heapMiB} MiB rss ${s.rssMiB} MiB dht ${s.dhtQueries} pubsub ${s.pubsubReceived}`).join('; ')}\n`)
  const warm = samples.find(s => s.seconds >= 30)!
  const end = samples.find(s => s.beforeStop === true)!
  const final = samples.find(s => s.final === true)!
  assert.ok(end.heapMiB - warm.heapMiB < HEAP_GROWTH_BOUND_MIB, `heap grew from ${warm.heapMiB} to ${end.heapMiB} MiB after warm-up`)
  assert.ok(end.honestRounds > 50 && end.attackRounds > 3, `${end.honestRounds} honest visits, ${end.attackRounds} attack rounds`)
  assert.ok(end.honestFailures <= end.honestRounds / 100, `${end.honestFailures} of ${end.honestRounds} honest visits failed`)
  assert.ok(end.dhtQueries - warm.dhtQueries > 100, `${end.dhtQueries - warm.dhtQueries} DHT queries after warm-up`)
  assert.ok(end.dhtFailures <= end.dhtQueries / 100, `${end.dhtFailures} failed DHT rounds of ${end.dhtQueries} queries`)
  assert.ok(end.pubsubReceived - warm.pubsubReceived > 100, `${end.pubsubReceived - warm.pubsubReceived} pubsub messages received after warm-up`)
  assert.deepEqual(final.handlesLeft, [], 'every handle of the node closed after stop')
})
