/**
 * The CLI's --security and --psk: a node started with TLS only inside a private network is
 * reached by `ping` and `identify` with the same key and an encrypter list that includes TLS,
 * and refused, with one stderr line, without the key.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startCli } from './run-cli.ts'
import { generatePreSharedKey } from '../../src/security/pnet/index.ts'

test('cli: start --security tls --psk FILE; ping and identify need the key and TLS', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ts-libp2p-cli-sec-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const keyFile = join(dir, 'swarm.key')
  await writeFile(keyFile, generatePreSharedKey())
  const node = startCli(['start', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', join(dir, 'data'), '--security', 'tls', '--psk', keyFile])
  t.after(async () => { await node.stop('SIGKILL') })
  const line = JSON.parse(await node.nextLine('stdout')) as { peerId: string, addrs: string[] }
  const addr = line.addrs.find(a => a.startsWith('/ip4/127.0.0.1/tcp/'))!

  const ping = await runCli(['ping', addr, '--security', 'noise,tls', '--psk', keyFile])
  assert.equal(ping.code, 0, ping.stderr)
  const id = await runCli(['identify', addr, '--security', 'tls', '--psk', keyFile])
  assert.equal(id.code, 0, id.stderr)
  assert.equal((JSON.parse(id.stdout) as { peerId: string }).peerId, line.peerId)

  const outsider = await runCli(['ping', addr, '--security', 'tls', '--timeout', '5000'])
  assert.equal(outsider.code, 1)
  assert.equal(outsider.stderr.trim().split('\n').length, 1, outsider.stderr)

  const badFlag = await runCli(['ping', addr, '--security', 'quic'])
  assert.equal(badFlag.code, 2)
  assert.match(badFlag.stderr, /--security/)
  assert.equal(await node.stop('SIGTERM'), 0)
})
