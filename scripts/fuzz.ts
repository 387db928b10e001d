/**
 * `npm run fuzz -- --minutes N [--target NAME] [--seed S]`: the long coverage-guided run
 * (test/fuzz/engine.ts, in a watched child process: test/fuzz/runner.ts). Every target (or the one
 * named) gets an equal share of N minutes (default 1). It starts from the committed seeds and
 * the corpus earlier long runs grew (.cache/fuzz/corpus/, not committed), adds what this run
 * discovered there, prints executions, corpus size and blocks per target, and for a failure
 * writes the input to test/fuzz/crashes/<target>-<seed>.hex (replayed by regressions.test.ts
 * once committed) and exits 1.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { CORPUS_DIR, loadCorpus, toHex } from '../test/fuzz/engine.ts'
import { runFuzzTargets } from '../test/fuzz/runner.ts'
import { targets } from '../test/fuzz/targets.ts'

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '1' }, target: { type: 'string' }, seed: { type: 'string' } } })
const minutes = Number(values.minutes)
if (!(minutes > 0)) throw new Error(`--minutes must be a positive number, got ${values.minutes}`)
const chosen = values.target === undefined ? targets : targets.filter(t => t.name === values.target)
if (chosen.length === 0) throw new Error(`no target ${values.target}; targets: ${targets.map(t => t.name).join(', ')}`)
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31)
const crashDir = fileURLToPath(new URL('../test/fuzz/crashes/', import.meta.url))
const grownDir = fileURLToPath(new URL('../.cache/fuzz/corpus/', import.meta.url))
mkdirSync(grownDir, { recursive: true })

let crashes = 0
let total = 0
await runFuzzTargets(chosen.map(t => t.name), {
  timeLimitMs: minutes * 60_000 / chosen.length,
  seed,
  corpusDirs: [CORPUS_DIR, grownDir],
  onResult (result) {
    total += result.executions
    if (result.discovered.length > 0) {
      const grown = [...loadCorpus(result.target, grownDir), ...result.discovered]
      writeFileSync(`${grownDir}${result.target}.json`, JSON.stringify(grown.map(toHex)) + '\n')
    }
    if (result.failure === undefined) {
      process.stdout.write(`${result.target}: ${result.executions} executions, corpus ${result.corpusSize}, ${result.blocks} blocks, no failure\n`)
      return
    }
    crashes++
    mkdirSync(crashDir, { recursive: true })
    const hex = toHex(result.failure.input)
    writeFileSync(`${crashDir}${result.target}-${seed}.hex`, hex + '\n')
    process.stdout.write(`${result.target}: ${result.failure.kind.toUpperCase()} after ${result.executions} executions (seed ${seed}) on ${hex}\n${result.failure.error}\n`)
  }
})
process.stdout.write(`${chosen.length} targets, ${total} executions, ${crashes} failed (seed ${seed})\n`)
process.exitCode = crashes > 0 ? 1 : 0
