/**
 * The network for WebRTC tests: Chromium gathers no ICE candidates on loopback, so the browser
 * runs inside a network namespace with a veth (10.77.0.1/24) and a default route, and the Node
 * peer runs in a peer namespace on the other end (10.77.0.2/24), or in the browser's own
 * namespace with `shared: true`. Built from the NAT lab's primitives (test/support/lab/): the
 * namespaces carry our pid in their names, are swept when a crashed run left them, and are
 * destroyed, with every process inside, on teardown or process exit.
 */
import { NetworkNamespace as Namespace, processLines } from '../lab/index.ts'
import type { ProcessLines } from '../lab/index.ts'
import { LAB_PREFIX, registerForTeardown, sweepStaleLabsSync, unregisterForTeardown } from '../lab/teardown.ts'

export const BROWSER_ADDRESS = '10.77.0.1'
export const PEER_ADDRESS = '10.77.0.2'

export interface BrowserLab {
  /** Where Chromium runs (pass as `lab` to withBrowserPage). */
  readonly browserNamespace: Namespace
  /** Where the Node peer runs; the same namespace when `shared`. */
  readonly peerNamespace: Namespace
  readonly browserAddress: string
  readonly peerAddress: string
  /** Starts `node script ...args` in the peer namespace; read its readiness from stdout lines. */
  spawnNode(script: string, args?: readonly string[]): ProcessLines
  /** Kills every process in the lab's namespaces and deletes them. Idempotent. */
  destroySync(): void
}

export interface BrowserLabOptions {
  /** Run the Node peer in the browser's namespace instead of a peer namespace. */
  shared?: boolean
}

let labCount = 0

export async function createBrowserLab (options: BrowserLabOptions = {}): Promise<BrowserLab> {
  sweepStaleLabsSync()
  const id = `${LAB_PREFIX}${process.pid}xbr${labCount++}`
  const created: Namespace[] = []
  // registered before the first namespace exists, so a failure halfway still cleans up
  const partial = { destroySync () { for (const ns of [...created].reverse()) ns.destroySync() } }
  registerForTeardown(partial)
  let browserNs: Namespace
  let peerNs: Namespace
  try {
    browserNs = await Namespace.create(`${id}b`)
    created.push(browserNs)
    peerNs = browserNs
    if (options.shared === true) {
      await browserNs.ip(['link', 'add', 'name', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1'])
      await configure(browserNs, 'eth0', BROWSER_ADDRESS)
      await configure(browserNs, 'eth1', PEER_ADDRESS)
      await browserNs.ip(['route', 'add', 'default', 'dev', 'eth0'])
    } else {
      peerNs = await Namespace.create(`${id}p`)
      created.push(peerNs)
      await browserNs.ip(['link', 'add', 'name', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peerNs.name])
      await configure(browserNs, 'eth0', BROWSER_ADDRESS)
      await configure(peerNs, 'eth0', PEER_ADDRESS)
      await browserNs.ip(['route', 'add', 'default', 'via', PEER_ADDRESS])
      await peerNs.ip(['route', 'add', 'default', 'via', BROWSER_ADDRESS])
    }
  } catch (err) {
    unregisterForTeardown(partial)
    partial.destroySync()
    throw err
  }
  unregisterForTeardown(partial)
  const lab: BrowserLab = {
    browserNamespace: browserNs,
    peerNamespace: peerNs,
    browserAddress: BROWSER_ADDRESS,
    peerAddress: PEER_ADDRESS,
    spawnNode (script, args = []) {
      return processLines(peerNs.spawn(process.execPath, [script, ...args]))
    },
    destroySync () {
      unregisterForTeardown(lab)
      partial.destroySync()
    }
  }
  registerForTeardown(lab)
  return lab
}

async function configure (ns: Namespace, device: string, address: string): Promise<void> {
  await ns.ip(['addr', 'add', `${address}/24`, 'dev', device])
  await ns.ip(['link', 'set', device, 'up'])
}
