/**
 * PyPI's p2pclient 0.3.0 (the Python bindings of the libp2p daemon, in the venv of
 * interop/python/setup.ts) drives three of our daemons through interop/python/drive.py:
 * identify, connect, list peers, streams both ways, the connection manager, DHT, pubsub,
 * disconnect. Control sockets: one unix, two TCP; handler sockets: one unix, one TCP.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pythonClient, PYTHON_DIR } from '../../interop/python/setup.ts'
import { startCli, type RunningCli } from '../cli/run-cli.ts'

test('Python p2pclient drives our daemons: identify, connect, streams both ways, connection manager, DHT, pubsub, disconnect', { timeout: 900_000 }, async (t) => {
  const python = await pythonClient()
  const dir = await mkdtemp(join(tmpdir(), 'py-client-'))
  const daemons: RunningCli[] = []
  t.after(async () => {
    for (const d of daemons) await d.stop('SIGTERM')
    await rm(dir, { recursive: true, force: true })
  })
  const base = ['-hostAddrs', '/ip4/127.0.0.1/tcp/0']
  const specs = [
    ['a', `/unix${join(dir, 'a.sock')}`, '-dhtServer', '-pubsub', '-connManager', '-connLo=1', '-connGrace=0s'],
    ['b', '/ip4/127.0.0.1/tcp/0', '-dhtServer', '-pubsub'],
    ['c', '/ip4/127.0.0.1/tcp/0']
  ]
  const controls: string[] = []
  for (const [name, listen, ...extra] of specs) {
    const d = startCli(['daemon', '-listen', listen, ...base, '-dataDir', join(dir, name), ...extra])
    daemons.push(d)
    controls.push((await d.nextLine('stdout', l => l.startsWith('Control socket: '))).slice('Control socket: '.length))
  }
  const out = await new Promise<string>((resolve, reject) => {
    execFile(python, [join(PYTHON_DIR, 'drive.py'), ...controls, `/unix${join(dir, 'a-handlers.sock')}`, '/ip4/127.0.0.1/tcp/0'], { timeout: 180_000 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${err.message}\n${stdout}\n${stderr}`))
      else resolve(stdout)
    })
  })
  const steps = new Map(out.trim().split('\n').map(l => { const [status, step, ...rest] = l.split(' '); return [step, `${status} ${rest.join(' ')}`.trim()] }))
  assert.equal(steps.get('stream-a-to-b'), 'ok FROM A TO B')
  assert.equal(steps.get('stream-b-to-a'), 'ok FROM B TO A')
  assert.equal(steps.get('pubsub-receive'), 'ok hello from python 8')
  assert.equal(steps.get('pubsub-get-topics'), 'ok py-client-topic')
  for (const step of ['identify', 'connect', 'dht-find-peer', 'dht-get-public-key', 'dht-put-value', 'dht-get-value', 'dht-search-value',
    'dht-provide', 'dht-find-providers', 'dht-get-closest-peers', 'pubsub-subscribe', 'pubsub-list-peers', 'connmgr-trim', 'connmgr-untag', 'disconnect']) {
    assert.match(steps.get(step) ?? 'missing', /^ok/, `${step}:\n${out}`)
  }
})
