/**
 * Summarizes V8 .cpuprofile files (from `node bench/run.ts --cpu-prof DIR`): the top functions
 * by self time, and the split between our code (src/), the cipher (node:crypto), Node's
 * socket and stream internals, garbage collection and the rest. Kernel time is not in a V8
 * profile; compare with the system CPU seconds the benchmark reports.
 *
 *   node bench/profile-summary.ts DIR_OR_FILE... [--top 15]
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  children?: number[]
}

interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url))

export type Category = 'ours (src/)' | 'cipher (node:crypto)' | 'node net/stream internals' | 'other node internals' | 'dependencies' | 'bench harness' | 'GC' | 'native/unattributed (program)' | 'idle'

function location (node: ProfileNode): string {
  const { url, lineNumber, functionName } = node.callFrame
  const file = url.startsWith('file://') ? relative(REPO_ROOT, fileURLToPath(url)) : url
  return `${file === '' ? '(native)' : file}${file !== '' ? `:${lineNumber + 1}` : ''} ${functionName === '' ? '(anonymous)' : functionName}`
}

/** Native functions bound by node:crypto show up without a URL; their parents tell. */
function categorize (node: ProfileNode, parent: ProfileNode | undefined): Category {
  const { url, functionName } = node.callFrame
  if (functionName === '(garbage collector)') return 'GC'
  if (functionName === '(idle)') return 'idle'
  if (functionName === '(program)' || functionName === '(root)') return 'native/unattributed (program)'
  if (url === '') return parent !== undefined ? categorize(parent, undefined) : 'native/unattributed (program)'
  if (url.includes('internal/crypto')) return 'cipher (node:crypto)'
  if (/internal\/(stream_base_commons|streams|net|buffer)|^node:(net|stream|buffer)/.test(url)) return 'node net/stream internals'
  if (url.startsWith('node:')) return 'other node internals'
  if (url.includes('/node_modules/')) return 'dependencies'
  if (url.includes('/src/')) return 'ours (src/)'
  if (url.includes('/bench/')) return 'bench harness'
  return 'other node internals'
}

export interface ProfileSummary {
  totalMs: number
  top: Array<{ where: string, selfMs: number, percent: number }>
  categories: Array<{ category: Category, selfMs: number, percent: number }>
}

export function summarizeProfile (profile: Profile, topN: number): ProfileSummary {
  const byId = new Map(profile.nodes.map(n => [n.id, n]))
  const parentOf = new Map<number, ProfileNode>()
  for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n)
  const selfUs = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const perFunction = new Map<string, number>()
  const perCategory = new Map<Category, number>()
  let busy = 0
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!
    const category = categorize(node, parentOf.get(id))
    if (category === 'idle') continue
    busy += us
    perCategory.set(category, (perCategory.get(category) ?? 0) + us)
    const where = location(node)
    perFunction.set(where, (perFunction.get(where) ?? 0) + us)
  }
  const pct = (us: number): number => Math.round(us / busy * 1000) / 10
  return {
    totalMs: busy / 1000,
    top: [...perFunction].sort((a, b) => b[1] - a[1]).slice(0, topN).map(([where, us]) => ({ where, selfMs: us / 1000, percent: pct(us) })),
    categories: [...perCategory].sort((a, b) => b[1] - a[1]).map(([category, us]) => ({ category, selfMs: us / 1000, percent: pct(us) }))
  }
}

async function main (): Promise<void> {
  const args = process.argv.slice(2)
  let topN = 15
  const files: string[] = []
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--top') { topN = Number(args[++i]); continue }
    const info = await stat(args[i])
    if (info.isDirectory()) {
      for (const name of (await readdir(args[i])).sort()) if (name.endsWith('.cpuprofile')) files.push(join(args[i], name))
    } else {
      files.push(args[i])
    }
  }
  if (files.length === 0) throw new Error('usage: node bench/profile-summary.ts DIR_OR_FILE... [--top N]')
  for (const file of files) {
    const summary = summarizeProfile(JSON.parse(await readFile(file, 'utf8')) as Profile, topN)
    const out: string[] = [`## ${file}`, '', `busy (non-idle) time in the profile: ${summary.totalMs.toFixed(0)} ms`, '', '| self % | self ms | function |', '|---:|---:|---|']
    for (const t of summary.top) out.push(`| ${t.percent.toFixed(1)} | ${t.selfMs.toFixed(0)} | ${t.where} |`)
    out.push('', '| category | self % | self ms |', '|---|---:|---:|')
    for (const c of summary.categories) out.push(`| ${c.category} | ${c.percent.toFixed(1)} | ${c.selfMs.toFixed(0)} |`)
    process.stdout.write(out.join('\n') + '\n\n')
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  })
}
