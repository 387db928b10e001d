/**
 * Keeps bench:rm (bench/resource-manager/run.ts) from rotting: a tiny run must write well-formed
 * results for both stacks. Costs are not asserted (they are measurements), only shape: both
 * sides measured in every repetition, one paired ratio per repetition, positive finite numbers.
 */
import { it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

interface Measure { cpuMicros: number, wallMicros: number }
interface Ratios { median: number, min: number, max: number, q1: number, q3: number, ratios: number[] }
interface StackResult {
  stack: string
  samples: Record<'on' | 'off', { transfer: Measure[], open: Measure[] }>
  cpuPerMiB: Ratios
  cpuPerOpen: Ratios
  wallPerMiB: Ratios
  wallPerOpen: Ratios
  direct: { memoryCallsPerMiB: number, streamScopesPerOpen: number, nsPerMemoryCall: number, nsPerStreamScope: number, inPlaceNsPerOpen: number }
  directShare: { perMiB: number, perOpen: number, inPlacePerOpen: number }
}

it('bench:rm measures CPU and wall time with the resource manager on and off, in pairs, for TCP and QUIC', { timeout: 110_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ts-libp2p-bench-rm-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, [join(REPO_ROOT, 'bench', 'resource-manager', 'run.ts'), '--bytes', String(1024 * 1024), '--streams', '20', '--repeat', '2', '--out', dir], { cwd: REPO_ROOT, timeout: 100_000 }, (err, _stdout, stderr) => {
      if (err !== null) reject(new Error(`bench:rm failed: ${err.message}\n${stderr}`))
      else resolve()
    })
  })
  const result = JSON.parse(await readFile(join(dir, 'resource-manager.json'), 'utf8')) as { config: { repeat: number }, results: StackResult[] }
  assert.deepEqual(result.results.map(r => r.stack), ['noise+yamux', 'quic'])
  for (const r of result.results) {
    for (const side of ['on', 'off'] as const) {
      for (const figure of ['transfer', 'open'] as const) {
        const samples = r.samples[side][figure]
        assert.equal(samples.length, result.config.repeat, `${r.stack} ${side} ${figure}`)
        for (const m of samples) assert.ok(m.cpuMicros > 0 && m.wallMicros > 0 && Number.isFinite(m.cpuMicros), `${r.stack} ${side} ${figure}`)
      }
    }
    for (const ratios of [r.cpuPerMiB, r.cpuPerOpen, r.wallPerMiB, r.wallPerOpen]) {
      assert.equal(ratios.ratios.length, result.config.repeat)
      assert.ok(ratios.min > 0 && ratios.min <= ratios.q1 && ratios.q1 <= ratios.median && ratios.median <= ratios.q3 && ratios.q3 <= ratios.max)
    }
  }
  for (const r of result.results) {
    // each peer takes one stream scope per stream: the counted calls are the real ones
    assert.equal(r.direct.streamScopesPerOpen, 2, r.stack)
    assert.ok(Number.isFinite(r.direct.memoryCallsPerMiB) && r.direct.memoryCallsPerMiB >= 0, r.stack)
    assert.ok(r.direct.nsPerMemoryCall > 0 && r.direct.nsPerStreamScope > 0, r.stack)
    assert.ok(r.directShare.perOpen > 0 && r.directShare.perMiB >= 0, r.stack)
    assert.ok(r.direct.inPlaceNsPerOpen > 0 && r.directShare.inPlacePerOpen > 0, r.stack)
  }
  const markdown = await readFile(join(dir, 'resource-manager.md'), 'utf8')
  assert.match(markdown, /TCP \+ Noise \+ Yamux \| CPU per MiB moved/)
  assert.match(markdown, /QUIC v1 \| CPU per stream open/)
})
