/**
 * A real DNS server for tests: Debian's dnsmasq inside a network namespace of the test's own,
 * answering only from the zone data the test gives it (no upstream, no /etc/hosts), on the
 * namespace's loopback. Everything that resolves against it runs in the same namespace.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { spawn } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NetworkNamespace, processLines } from '../support/lab/index.ts'
import type { ProcessLines } from '../support/lab/index.ts'
import { natLabUnavailableReason } from '../support/lab/index.ts'
import { registerForTeardown, unregisterForTeardown, LAB_PREFIX } from '../support/lab/teardown.ts'
import { runQuietlySync } from '../support/lab/commands.ts'

export const DNSMASQ = '/usr/sbin/dnsmasq'
export const DNS_SERVER = '127.0.0.1'

export interface Zone {
  /** name -> IPv4 addresses */
  a?: Record<string, string[]>
  /** name -> IPv6 addresses */
  aaaa?: Record<string, string[]>
  /** name -> TXT record texts (one record each) */
  txt?: Record<string, string[]>
}

export interface DnsLab {
  namespace: NetworkNamespace
  server: ProcessLines
  destroy(): Promise<void>
}

/** Why dnsmasq labs cannot run here (undefined when they can); under CI this is an error. */
export async function dnsLabSkip (): Promise<string | false> {
  const reason = await natLabUnavailableReason() ?? (runQuietlySync('bash', ['-c', `ls ${DNSMASQ}`]).trim() === '' ? 'dnsmasq is not installed (scripts/install-system-packages.sh installs dnsmasq-base)' : undefined)
  if (reason === undefined) return false
  if (process.env.CI === 'true') throw new Error(`CI must run the DNS lab, but ${reason}`)
  return reason
}

function config (zone: Zone, port = 53): string {
  const lines = [`port=${port}`, `listen-address=${DNS_SERVER}`, 'bind-interfaces', 'no-resolv', 'no-hosts', 'no-poll', 'log-queries']
  // one line per address: a host-record keeps one address per family
  for (const [name, ips] of [...Object.entries(zone.a ?? {}), ...Object.entries(zone.aaaa ?? {})]) {
    for (const ip of ips) lines.push(`host-record=${name},${ip}`)
  }
  for (const [name, texts] of Object.entries(zone.txt ?? {})) {
    for (const text of texts) lines.push(`txt-record=${name},"${text}"`)
  }
  return lines.join('\n') + '\n'
}

/** dnsmasq serving `zone` on the loopback of `namespace`, once it resolves; `stop()` ends it. */
export async function startDnsServer (namespace: NetworkNamespace, zone: Zone): Promise<{ server: ProcessLines, stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tsdns-'))
  const stop = async (): Promise<void> => {
    await server?.stop()
    await rm(dir, { recursive: true, force: true })
  }
  let server: ProcessLines | undefined
  try {
    const file = join(dir, 'dnsmasq.conf')
    await writeFile(file, config(zone))
    // stderr into stdout: dnsmasq says "started" once its sockets are bound
    server = processLines(namespace.spawn('sh', ['-c', `exec ${DNSMASQ} --keep-in-foreground --conf-file=${file} --log-facility=- --pid-file= 2>&1`]))
    await server.nextLine(line => line.includes('started'), 10_000)
    return { server, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

/**
 * dnsmasq serving `zone` on this machine's loopback at a free high port (no namespace, so a
 * process given `--dns-server 127.0.0.1:PORT` resolves against it); `stop()` ends it.
 */
export async function startLoopbackDnsServer (zone: Zone): Promise<{ port: number, server: ProcessLines, stop: () => Promise<void> }> {
  const port = await freeTcpAndUdpPort()
  const dir = await mkdtemp(join(tmpdir(), 'tsdns-'))
  let server: ProcessLines | undefined
  const stop = async (): Promise<void> => {
    await server?.stop()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    const file = join(dir, 'dnsmasq.conf')
    await writeFile(file, config(zone, port))
    server = processLines(spawn('sh', ['-c', `exec ${DNSMASQ} --keep-in-foreground --conf-file=${file} --log-facility=- --pid-file= 2>&1`], { stdio: ['ignore', 'pipe', 'pipe'] }))
    await server.nextLine(line => line.includes('started'), 10_000)
    return { port, server, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

/** A loopback port free for both TCP and UDP right now (dnsmasq binds both). */
async function freeTcpAndUdpPort (): Promise<number> {
  for (;;) {
    const tcp = createServer()
    await new Promise<void>(resolve => { tcp.listen(0, DNS_SERVER, resolve) })
    const { port } = tcp.address() as AddressInfo
    const udp = createSocket('udp4')
    const free = await new Promise<boolean>(resolve => {
      udp.once('error', () => { resolve(false) })
      udp.bind(port, DNS_SERVER, () => { resolve(true) })
    })
    udp.close()
    await new Promise<void>(resolve => { tcp.close(() => { resolve() }) })
    if (free) return port
  }
}

/** A namespace named after this process, with dnsmasq serving `zone` on its loopback once it resolves. */
export async function startDnsLab (suffix: string, zone: Zone): Promise<DnsLab> {
  const namespace = await NetworkNamespace.create(`${LAB_PREFIX}${process.pid}${suffix}`)
  registerForTeardown(namespace)
  const destroy = async (): Promise<void> => {
    namespace.destroySync()
    unregisterForTeardown(namespace)
  }
  try {
    const { server, stop } = await startDnsServer(namespace, zone)
    return { namespace, server, destroy: async () => { await destroy(); await stop() } }
  } catch (err) {
    await destroy()
    throw err
  }
}
