/**
 * A peer process that prints a JSON `ready` line and then answers JSON-line commands on stdin
 * with `{"id", "ok", ...}` lines (interop/js-peer/http-peer.ts, the go peer's http mode).
 * Waits on the ready line, never on time; `stop()` ends the process and waits for its exit.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'

export interface LinePeer {
  ready: Record<string, any>
  command(msg: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, any>>
  stop(): Promise<void>
}

export async function spawnLinePeer (command: string, args: string[], options: { env?: Record<string, string>, readyTimeoutMs?: number } = {}): Promise<LinePeer> {
  const child: ChildProcessWithoutNullStreams = spawn(command, args, { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-8192) })
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  const pending = new Map<number, (reply: Record<string, any>) => void>()
  let onReady: ((v: Record<string, any>) => void) | undefined
  const lines = createInterface({ input: child.stdout })
  lines.on('line', (text) => {
    let msg: Record<string, any>
    try { msg = JSON.parse(text) } catch { return }
    if (msg.event === 'ready') onReady?.(msg)
    else if (typeof msg.id === 'number') pending.get(msg.id)?.(msg)
  })
  const readyTimeout = options.readyTimeoutMs ?? 60_000
  const ready = await new Promise<Record<string, any>>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${command} not ready within ${readyTimeout} ms: ${stderr}`)) }, readyTimeout)
    onReady = (v) => { clearTimeout(timer); resolve(v) }
    void exited.then(() => { clearTimeout(timer); reject(new Error(`${command} exited before ready: ${stderr}`)) })
  })
  let nextId = 1
  return {
    ready,
    async command (msg, timeoutMs = 60_000) {
      const id = nextId++
      return await new Promise((resolve, reject) => {
        const timer = setTimeout(() => { pending.delete(id); reject(new Error(`no reply to ${JSON.stringify(msg)} within ${timeoutMs} ms: ${stderr}`)) }, timeoutMs)
        pending.set(id, (reply) => { clearTimeout(timer); pending.delete(id); resolve(reply) })
        child.stdin.write(JSON.stringify({ ...msg, id }) + '\n')
      })
    },
    async stop () {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.stdin.end()
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 5000)
      await exited
      clearTimeout(timer)
    }
  }
}
