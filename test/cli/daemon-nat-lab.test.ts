/**
 * `ts-libp2p daemon -natPortMap` against a real router: Debian's miniupnpd in the NAT lab's router
 * namespace, the daemon in the LAN namespace behind it. With the flag the daemon maps its listen
 * port (UPnP or NAT-PMP, whichever answers first), the router's table shows it, a node on the
 * lab's internet pings the daemon at the mapped address, and SIGTERM removes the mapping; a
 * daemon without the flag maps nothing. No packet leaves the lab's namespaces.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createNatLab, processLines, type NatLab, type ProcessLines } from '../support/lab/index.ts'
import { miniupnpdSkip, startMiniupnpd, type Miniupnpd } from '../support/lab/miniupnpd.ts'

const BIN = fileURLToPath(new URL('../../bin/ts-libp2p.js', import.meta.url))
const skip = await miniupnpdSkip()

describe('ts-libp2p daemon -natPortMap against miniupnpd', { skip }, () => {
  let lab: NatLab
  let dir: string
  let router: Miniupnpd
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ts-libp2p-daemon-upnp-'))
    lab = await createNatLab({ natA: 'eim', natB: 'eim', delayMs: 0 })
    router = await startMiniupnpd(lab.routerA.namespace, { dir, lanAddress: '10.0.0.1' })
  })
  after(async () => {
    await router?.stop()
    await lab?.close()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('maps the listen port only with the flag; the internet reaches the daemon there; SIGTERM removes the mapping', { timeout: 120_000 }, async () => {
    const daemon = (name: string, port: number, flags: string[]): ProcessLines => processLines(lab.hostA.namespace.spawn(process.execPath,
      [BIN, 'daemon', '-listen', `/unix${join(dir, `${name}.sock`)}`, '-hostAddrs', `/ip4/0.0.0.0/tcp/${port}`, '-dataDir', join(dir, name), ...flags],
      { env: { ...process.env, DEBUG: '' } }))
    const peerIdOf = async (d: ProcessLines): Promise<string> => (await d.nextLine(line => line.startsWith('Peer ID: '), 60_000)).slice('Peer ID: '.length)
    const plain = daemon('plain', 4121, [])
    let mapping: ProcessLines | undefined
    try {
      await peerIdOf(plain)
      mapping = daemon('mapping', 4120, ['-natPortMap'])
      const peerId = await peerIdOf(mapping)
      // UPnP's or NAT-PMP's request in the router's log, whichever protocol answered first
      await router.nextLogLine(line => /AddPortMapping: ext port 4120 |port mapping request : 4120->/.test(line), 30_000)
      const table = await router.listMappings(lab.hostA.namespace)
      assert.ok(table.some(m => m.protocol === 'TCP' && m.externalPort === 4120 && m.internalClient === '10.0.0.2' && m.internalPort === 4120), JSON.stringify(table))
      assert.ok(!table.some(m => m.internalPort === 4121), `the daemon without -natPortMap mapped nothing: ${JSON.stringify(table)}`)

      const out = await lab.relay.namespace.exec(process.execPath, [BIN, 'ping', `/ip4/${lab.routerA.wanAddress}/tcp/4120/p2p/${peerId}`, '--count', '1', '--timeout', '10000'])
      assert.equal((JSON.parse(out.trim().split('\n')[0]) as { seq: number }).seq, 1)

      await mapping.stop()
      assert.ok(!(await router.listMappings(lab.hostA.namespace)).some(m => m.internalPort === 4120), 'removed when the daemon stops')
    } finally {
      await plain.stop()
      await mapping?.stop()
    }
  })
})
