/**
 * `npm run fuzz -- --minutes N [--target NAME] [--seed S]`: the long fuzzing run. Every target
 * in test/fuzz/targets.ts (or the one named) gets an equal share of N minutes (default 1) with
 * a random seed; it prints the executions per target, and for a crash the seed, the smallest
 * failing input (also written to test/fuzz/crashes/) and the error, then exits 1.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { fuzz, loadCorpus, toHex } from '../test/fuzz/engine.ts'
import { targets } from '../test/fuzz/targets.ts'

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '1' }, target: { type: 'string' }, seed: { type: 'string' } } })
const minutes = Number(values.minutes)
if (!(minutes > 0)) throw new Error(`--minutes must be a positive number, got ${values.minutes}`)
const chosen = values.target === undefined ? targets : targets.filter(t => t.name === values.target)
if (chosen.length === 0) throw new Error(`no target ${values.target}; targets: ${targets.map(t => t.name).join(', ')}`)
const share = minutes * 60_000 / chosen.length
const crashDir = fileURLToPath(new URL('../test/fuzz/crashes/', import.meta.url))
let crashes = 0
let total = 0
for (const target of chosen) {
  const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31)
  const result = fuzz(target, loadCorpus(target.name), { timeLimitMs: share, seed })
  total += result.executions
  if (result.failure === undefined) {
    process.stdout.write(`${target.name}: ${result.executions} executions, no crash (seed ${seed})\n`)
    continue
  }
  crashes++
  mkdirSync(crashDir, { recursive: true })
  const hex = toHex(result.failure.input)
  writeFileSync(`${crashDir}${target.name}-${seed}.hex`, hex + '\n')
  process.stdout.write(`${target.name}: CRASH after ${result.executions} executions (seed ${seed}) on ${hex}\n${String((result.failure.error as Error)?.stack ?? result.failure.error)}\n`)
}
process.stdout.write(`${chosen.length} targets, ${total} executions, ${crashes} crashed\n`)
process.exitCode = crashes > 0 ? 1 : 0
