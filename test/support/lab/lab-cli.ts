/**
 * Running the real `ts-libp2p` command on a lab host: `start` nodes whose JSON lines the test
 * reads (the start line, then `--events` lines), and one-shot commands such as `ping`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { LabHost } from './nat-lab.ts'
import { processLines, type ProcessLines } from './process-lines.ts'

export const CLI = fileURLToPath(new URL('../../../bin/ts-libp2p.js', import.meta.url))

export interface LabNode {
  readonly process: ProcessLines
  readonly peerId: string
  readonly addrs: string[]
  /** The next `--events` line of this kind (parsed), optionally matching a predicate. */
  nextEvent(event: string, match?: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>
  stop(): Promise<void>
}

/** `ts-libp2p start ARGS --events` on `host`, with a fresh data directory; resolves after the start line. */
export async function startLabNode (host: LabHost, args: string[], timeoutMs = 60_000): Promise<LabNode> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tslab-node-'))
  const child = processLines(host.namespace.spawn(process.execPath, [CLI, 'start', '--data-dir', dataDir, '--events', ...args], { env: { ...process.env, DEBUG: process.env.LAB_DEBUG ?? '' } }))
  const stop = async (): Promise<void> => {
    await child.stop()
    await rm(dataDir, { recursive: true, force: true })
  }
  try {
    const start = JSON.parse(await child.nextLine(line => line.startsWith('{"peerId"'), timeoutMs)) as { peerId: string, addrs: string[] }
    return {
      process: child,
      peerId: start.peerId,
      addrs: start.addrs,
      async nextEvent (event, match = () => true, ms = 30_000) {
        const line = await child.nextLine(l => {
          if (!l.startsWith('{"event"')) return false
          const parsed = JSON.parse(l) as Record<string, unknown>
          return parsed.event === event && match(parsed)
        }, ms)
        return JSON.parse(line)
      },
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}

/** Runs a one-shot `ts-libp2p ARGS` on `host` and returns its stdout lines (throws on failure). */
export async function runLabCli (host: LabHost, args: string[]): Promise<string[]> {
  const out = await host.namespace.exec(process.execPath, [CLI, ...args])
  return out.trim().split('\n').filter(line => line !== '')
}
