/**
 * `ts-libp2p daemon -autoRelay` as p2pd's users run it, behind a NAT in the lab: the daemon
 * (LAN of router B, endpoint-independent NAT) knows one relay, on the lab's internet, only as a
 * bootstrap peer. It learns from AutoNAT that it is private (the relay node answers AutoNAT) and
 * only then reserves on the relay. It is not forced: no -forceReachabilityPrivate. Its IDENTIFY
 * answer lists the circuit address, and a host behind the other NAT pings it there. No packet
 * leaves the lab's namespaces.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { CLI, createNatLab, INTERNET_CIDR, natLabSkip, RELAY_ADDRESS, runLabCli, startLabNode, type LabNode, type NatLab } from '../support/lab/index.ts'
import { DaemonClient } from '../../src/daemon/client.ts'
import { isRelayed } from '../../src/util/multiaddr.ts'

const skip = await natLabSkip()

describe('ts-libp2p daemon -autoRelay behind a NAT', { skip }, () => {
  let lab: NatLab
  let relay: LabNode
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ts-libp2p-daemon-autorelay-'))
    lab = await createNatLab({ natA: 'eim', natB: 'eim', delayMs: 0 })
    relay = await startLabNode(lab.relay, ['--listen', `/ip4/${RELAY_ADDRESS}/tcp/4001`, '--relay-server', '--public-cidr', INTERNET_CIDR])
  })
  after(async () => {
    await relay?.stop()
    await lab?.close()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('AutoNAT finds it private, it reserves on the relay it knows, and is reachable through it', { timeout: 240_000 }, async () => {
    const relayAddr = `/ip4/${RELAY_ADDRESS}/tcp/4001/p2p/${relay.peerId}`
    const control = join(dir, 'behind.sock')
    // the reservation's own debug line is the readiness signal
    const child = lab.hostB.namespace.spawn(process.execPath, [CLI, 'daemon', '-listen', `/unix${control}`, '-hostAddrs', '/ip4/0.0.0.0/tcp/4001',
      '-dataDir', join(dir, 'behind'), '-autoRelay', '-b', `-bootstrapPeers=${relayAddr}`],
    { env: { ...process.env, DEBUG: 'ts-libp2p:relay:reservations,ts-libp2p:autonat' } })
    const stderr: string[] = []
    const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
    try {
      const reserved = new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => { reject(new Error(`no reservation within 180 s; stderr:\n${stderr.join('\n')}`)) }, 180_000)
        createInterface({ input: child.stderr! }).on('line', (line) => {
          stderr.push(line)
          if (/relay:reservations reserved on /.test(line)) { clearTimeout(timer); resolve(line) }
        })
        child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the daemon exited (${code}); stderr:\n${stderr.join('\n')}`)) })
      })
      child.stdout!.resume()
      assert.match(await reserved, new RegExp(relay.peerId))
      // not forced: AutoNAT's verdict came first
      const verdict = stderr.findIndex(line => /autonat reachability \S+ -> private/.test(line))
      assert.ok(verdict !== -1 && verdict < stderr.findIndex(line => /reserved on /.test(line)), `AutoNAT said private before the reservation:\n${stderr.join('\n')}`)

      const client = new DaemonClient(`/unix${control}`)
      try {
        const id = await client.identify()
        const circuit = id.addrs.find(a => isRelayed(a) && a.toString().includes(`/p2p/${relay.peerId}/p2p-circuit`))
        assert.ok(circuit !== undefined, `IDENTIFY lists the circuit address: ${id.addrs.map(String).join(' ')}`)
        const pings = (await runLabCli(lab.hostA, ['ping', `${circuit.toString()}/p2p/${id.id.toString()}`, '--count', '1'])).map(l => JSON.parse(l) as { seq: number })
        assert.deepEqual(pings.map(p => p.seq), [1])
      } finally {
        await client.close()
      }
    } finally {
      child.kill('SIGTERM')
      await exited
    }
  })
})
