/**
 * The CLI's relay flags as processes: `start --relay-server` serves the hop protocol,
 * `start --relay MA` prints its start line only once the reservation is made (with the
 * `/p2p-circuit` address in `addrs`), and `ping` reaches that node through the relay.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startCli } from './run-cli.ts'

test('start --relay-server, start --relay MA (start line after the reservation), ping through the relay', async (ctx) => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-relay-cli-'))
  ctx.after(() => { rmSync(dir, { recursive: true, force: true }) })
  const relay = startCli(['start', '--relay-server', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', join(dir, 'relay')])
  ctx.after(async () => { await relay.stop() })
  const relayLine = JSON.parse(await relay.nextLine('stdout', l => l.startsWith('{'), 60_000)) as { peerId: string, addrs: string[] }
  const relayAddr = relayLine.addrs[0]

  const node = startCli(['start', '--listen', '/ip4/127.0.0.1/tcp/0', '--relay', relayAddr, '--data-dir', join(dir, 'node')])
  ctx.after(async () => { await node.stop() })
  const line = JSON.parse(await node.nextLine('stdout', l => l.startsWith('{'), 60_000)) as { peerId: string, addrs: string[] }
  const circuit = `${relayAddr}/p2p-circuit/p2p/${line.peerId}`
  assert.ok(line.addrs.includes(circuit), `start line addrs ${line.addrs.join(' ')} include ${circuit}`)

  const ping = await runCli(['ping', circuit, '--count', '1'], { timeoutMs: 60_000 })
  assert.equal(ping.code, 0, ping.stderr)
  const result = JSON.parse(ping.stdout.trim().split('\n')[0]) as { seq: number, rttMs: number }
  assert.equal(result.seq, 1)
  assert.ok(result.rttMs >= 0)

  assert.equal(await node.stop(), 0)
  assert.equal(await relay.stop(), 0)
})

test('--relay needs an address that names the relay', async () => {
  const result = await runCli(['start', '--relay', '/ip4/127.0.0.1/tcp/1'])
  assert.equal(result.code, 2)
  assert.match(result.stderr, /--relay needs a relay's address/)
})
