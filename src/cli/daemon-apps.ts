/**
 * Multi-tenancy for `ts-libp2p daemon` (docs/daemon/multi-tenancy.md): `-apps alice,bob:1001`
 * hosts one application per name beside the daemon's own node. Each application is one
 * identity (its own key, persisted in DATADIR/apps/NAME), one libp2p node (its own connections,
 * peer store, stream handlers, pubsub subscriptions, DHT) and one control socket,
 * APPSDIR/NAME.sock, that only its owner can open: the socket file is made mode 0600 and, with
 * `:UID`, owned by that user. The kernel's permission check on connect(2) is the credential;
 * no request on one control socket can name another application's node.
 */
import { chmod, chown, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from '../interface/libp2p.ts'
import type { PrivateKey } from '../interface/keys.ts'
import { DaemonServer } from '../daemon/server.ts'
import type { Watermarks } from '../daemon/conn-manager.ts'
import { formatDaemonMultiaddr } from '../daemon/local-socket.ts'
import { UsageError } from './args.ts'
import { loadOrCreateIdentity } from './identity.ts'

export const MAX_APPS = 64
const APP_NAME = /^[A-Za-z0-9_-]{1,64}$/

export interface AppSpec { name: string, uid?: number }

export interface HostedApp { name: string, node: Libp2p, server: DaemonServer, line: string }

/** `-apps NAME[:UID],...` */
export function parseApps (text: string): AppSpec[] {
  const specs: AppSpec[] = []
  for (const item of text.split(',').map(s => s.trim()).filter(s => s !== '')) {
    const [name, uid, extra] = item.split(':')
    if (extra !== undefined || !APP_NAME.test(name)) throw new UsageError(`-apps: '${item}' is not NAME or NAME:UID (names: letters, digits, _ and -)`)
    if (uid !== undefined && !/^\d{1,10}$/.test(uid)) throw new UsageError(`-apps: the uid in '${item}' is not a number`)
    if (specs.some(s => s.name === name)) throw new UsageError(`-apps: ${name} is named twice`)
    specs.push(uid === undefined ? { name } : { name, uid: Number(uid) })
  }
  if (specs.length > MAX_APPS) throw new UsageError(`-apps: at most ${MAX_APPS} applications`)
  return specs
}

/**
 * Starts every application: its node (from `createNode` with its own key) and its control
 * socket. On failure, what was started is stopped again.
 */
export async function startApps (specs: AppSpec[], options: {
  appsDir: string
  dataDir: string
  watermarks: Watermarks
  createNode: (privateKey: PrivateKey) => Promise<Libp2p>
}): Promise<HostedApp[]> {
  if (specs.length === 0) return []
  // the directory is searchable by everyone (owners reach their socket), listable by root only
  await mkdir(options.appsDir, { recursive: true, mode: 0o711 })
  await chmod(options.appsDir, 0o711)
  const apps: HostedApp[] = []
  try {
    for (const spec of specs) {
      const key = await loadOrCreateIdentity(join(options.dataDir, 'apps', spec.name))
      const node = await options.createNode(key)
      const path = join(options.appsDir, `${spec.name}.sock`)
      const server = new DaemonServer(node, { listen: multiaddr(`/unix/${encodeURIComponent(path)}`), watermarks: options.watermarks })
      apps.push({ name: spec.name, node, server, line: '' })
      await node.start()
      // a new socket file is 0755 under the usual umask: only its owner (root) may connect
      // until the chmod/chown below, so there is no window where another user can
      await server.start()
      await chmod(path, 0o600)
      if (spec.uid !== undefined) await chown(path, spec.uid, -1)
      apps[apps.length - 1].line = `App ${spec.name}: ${formatDaemonMultiaddr(server.listenAddr)} ${node.peerId.toString()}`
    }
  } catch (err) {
    await stopApps(apps)
    throw err
  }
  return apps
}

export async function stopApps (apps: HostedApp[]): Promise<void> {
  await Promise.all(apps.map(async (app) => {
    await app.server.stop().catch(() => {})
    await app.node.stop().catch(() => {})
  }))
}
