/**
 * The lab goes away however its process ends: on SIGINT (the process handlers tear it down and
 * the process still dies of the signal), and after kill -9 the next lab built sweeps the
 * namespaces of the dead process, with the delay wires running inside them.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createNatLab, natLabSkip, processLines } from './index.ts'
import { processRuns } from './namespace.ts'

const CHILD = fileURLToPath(new URL('./fixtures/lab-child.ts', import.meta.url))
const skip = await natLabSkip()

const namespaces = (): string => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })

async function childLab (): Promise<{ child: ReturnType<typeof processLines>, names: string[] }> {
  const child = processLines(spawn(process.execPath, [CHILD], { stdio: ['ignore', 'pipe', 'pipe'] }))
  const names = JSON.parse(await child.nextLine(line => line.startsWith('['), 60_000)) as string[]
  assert.ok(names.length >= 7, JSON.stringify(names))
  for (const name of names) assert.ok(namespaces().includes(name), name)
  return { child, names }
}

test('SIGINT: the lab is torn down and the process dies of the signal', { skip }, async () => {
  const { child, names } = await childLab()
  const exited = new Promise<NodeJS.Signals | null>(resolve => { child.child.once('exit', (_code, signal) => { resolve(signal) }) })
  child.child.kill('SIGINT')
  assert.equal(await exited, 'SIGINT')
  const left = namespaces()
  for (const name of names) assert.ok(!left.includes(name), `${name} survived SIGINT`)
})

test('kill -9: the next lab sweeps the dead process\'s namespaces and their processes', { skip }, async () => {
  const { child, names } = await childLab()
  const wirePids = names.flatMap(name => execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).split('\n').filter(Boolean))
  assert.ok(wirePids.length >= 2, 'the delay wires run inside the lab')
  const exited = new Promise<void>(resolve => { child.child.once('exit', () => { resolve() }) })
  child.child.kill('SIGKILL')
  await exited
  assert.ok(namespaces().includes(names[0]), 'nothing tears down after kill -9 by itself')
  const next = await createNatLab({ delayMs: 0 })
  await next.close()
  const left = namespaces()
  for (const name of names) assert.ok(!left.includes(name), `${name} was not swept`)
  for (const pid of wirePids) assert.ok(!processRuns(Number(pid)), `wire ${pid} still runs`)
})
