/**
 * The daemon's reachability flags in the NAT lab, as p2pd's users run them.
 *
 * `-autoRelay` behind a NAT: the daemon
 * (LAN of router B, endpoint-independent NAT) knows one relay, on the lab's internet, only as a
 * bootstrap peer. It learns from AutoNAT that it is private (the relay node answers AutoNAT) and
 * only then reserves on the relay. It is not forced: no -forceReachabilityPrivate. Its IDENTIFY
 * answer lists the circuit address, and a host behind the other NAT pings it there.
 *
 * `-autonat` on the lab's internet: a node behind a NAT that knows only our daemon asks it, our
 * daemon dials back (and fails: the NAT drops it), and the node concludes it is private.
 *
 * No packet leaves the lab's namespaces.
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

describe('ts-libp2p daemon -autonat and -autoRelay in the NAT lab', { skip }, () => {
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

  /** Starts our daemon in `host`'s namespace; `stderr` collects its debug lines as they come. */
  function spawnDaemon (host: NatLab['hostA'], name: string, args: string[], debug: string) {
    const control = join(dir, `${name}.sock`)
    const child = host.namespace.spawn(process.execPath, [CLI, 'daemon', '-listen', `/unix${control}`, '-dataDir', join(dir, name), ...args], { env: { ...process.env, DEBUG: debug } })
    const stderr: string[] = []
    const waiters: Array<{ match: RegExp, resolve: (line: string) => void }> = []
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderr.push(line)
      for (const w of [...waiters]) if (w.match.test(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line) }
    })
    const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
    return {
      child, control, stderr,
      async stop () { child.kill('SIGTERM'); await exited },
      /** The first debug line (already seen or to come) that matches. */
      async nextStderr (match: RegExp, timeoutMs: number): Promise<string> {
        const seen = stderr.find(line => match.test(line))
        if (seen !== undefined) return seen
        return await new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => { reject(new Error(`no ${String(match)} within ${timeoutMs} ms; stderr:\n${stderr.join('\n')}`)) }, timeoutMs)
          waiters.push({ match, resolve: (line) => { clearTimeout(timer); resolve(line) } })
          void exited.then(() => { clearTimeout(timer); reject(new Error(`the daemon exited; stderr:\n${stderr.join('\n')}`)) })
        })
      },
      async startupLines (): Promise<string[]> {
        const lines: string[] = []
        const rl = createInterface({ input: child.stdout! })
        return await new Promise<string[]>((resolve, reject) => {
          rl.on('line', (line) => { lines.push(line); if (lines.length === 4) resolve(lines) })
          child.once('exit', (code) => { reject(new Error(`the daemon exited (${code}); stderr:\n${stderr.join('\n')}`)) })
        })
      }
    }
  }

  it('-autonat: a NATed node that knows only our daemon learns from it that it is private', { timeout: 240_000 }, async () => {
    const server = spawnDaemon(lab.relay, 'autonat-server', ['-hostAddrs', `/ip4/${RELAY_ADDRESS}/tcp/4002`, '-autonat', '-relay=false'], 'ts-libp2p:autonat:v1:server,ts-libp2p:autonat:v2:server')
    let asker: LabNode | undefined
    try {
      const [, peerLine, , addrLine] = await server.startupLines()
      const serverAddr = `${addrLine}/p2p/${peerLine.slice('Peer ID: '.length)}`
      asker = await startLabNode(lab.hostA, ['--listen', '/ip4/0.0.0.0/tcp/4002', '--bootstrap', serverAddr, '--public-cidr', INTERNET_CIDR])
      const verdict = await asker.nextEvent('reachability', e => e.status !== 'unknown', 120_000)
      assert.equal(verdict.status, 'private')
      // the dial-backs that failed were our daemon's, at the NAT's public address
      assert.ok(server.stderr.some(line => /autonat:v[12]:server dial(-back)? to \/ip4\/11\./.test(line) && line.includes(lab.routerA.wanAddress)), `our daemon dialed back:\n${server.stderr.join('\n')}`)
    } finally {
      await asker?.stop()
      await server.stop()
    }
  })

  it('-autoRelay: AutoNAT finds it private, it reserves on the relay it knows, and is reachable through it', { timeout: 240_000 }, async () => {
    const relayAddr = `/ip4/${RELAY_ADDRESS}/tcp/4001/p2p/${relay.peerId}`
    // the reservation's own debug line is the readiness signal
    const behind = spawnDaemon(lab.hostB, 'behind', ['-hostAddrs', '/ip4/0.0.0.0/tcp/4001', '-autoRelay', '-b', `-bootstrapPeers=${relayAddr}`], 'ts-libp2p:relay:reservations,ts-libp2p:autonat')
    try {
      behind.child.stdout!.resume()
      assert.match(await behind.nextStderr(/relay:reservations reserved on /, 180_000), new RegExp(relay.peerId))
      // not forced: AutoNAT's verdict came first
      const stderr = behind.stderr
      const verdict = stderr.findIndex(line => /autonat reachability \S+ -> private/.test(line))
      assert.ok(verdict !== -1 && verdict < stderr.findIndex(line => /reserved on /.test(line)), `AutoNAT said private before the reservation:\n${stderr.join('\n')}`)

      const client = new DaemonClient(`/unix${behind.control}`)
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
      await behind.stop()
    }
  })
})
