/**
 * The @libp2p/interop DaemonFactory for ts-libp2p. The suite knows two kinds, 'go' and 'js', so
 * it runs twice (INTEROP_P2PD selects the pairing):
 * - by default 'go' is OUR daemon (`ts-libp2p daemon` as a child process, driven with p2pd's
 *   flags, exactly as js-libp2p drives go's p2pd; the installed build when
 *   INTEROP_TS_LIBP2P_BIN names it) and 'js' is js-libp2p with
 *   @libp2p/daemon-server in this process;
 * - with INTEROP_P2PD=<path of a p2pd binary> 'go' is the real go-libp2p-daemon (v0.9.2, built
 *   by interop/p2pd/build.ts) and 'js' is our daemon, started in this process.
 * Transports we (and the js peer here) do not run, webtransport and webrtc-direct, throw
 * UnsupportedError, which the suite turns into a skipped test, as js-libp2p's own factory does.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { multiaddr } from '@multiformats/multiaddr'
import { createClient } from '@libp2p/daemon-client'
import { createServer } from '@libp2p/daemon-server'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { mplex } from '@libp2p/mplex'
import { tls } from '@libp2p/tls'
import { plaintext } from '@libp2p/plaintext'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { floodsub } from '@libp2p/floodsub'
import { gossipsub } from '@libp2p/gossipsub'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Daemon, DaemonFactory, SpawnOptions } from '@libp2p/interop'
import { startDaemon } from '../../src/cli/commands/daemon.ts'

/**
 * Our daemon's launcher: the compiled, installed package that test/interop/daemon-interop.test.ts
 * prepares (interop/daemon/installed.ts) and names in INTEROP_TS_LIBP2P_BIN, else the checkout's.
 */
const BIN = process.env.INTEROP_TS_LIBP2P_BIN !== undefined && process.env.INTEROP_TS_LIBP2P_BIN !== ''
  ? process.env.INTEROP_TS_LIBP2P_BIN
  : fileURLToPath(new URL('../../bin/ts-libp2p.js', import.meta.url))
const START_TIMEOUT_MS = 30_000

class UnsupportedError extends Error {
  constructor (message: string) { super(message); this.name = 'UnsupportedError' }
}

/** p2pd's flags for `options`, as js-libp2p's factory passes them to go's p2pd. */
function p2pdArgs (options: SpawnOptions): string[] {
  const args = ['-listen=/ip4/127.0.0.1/tcp/0']
  args.push(options.noListen === true ? '-noListenAddrs' : '-hostAddrs=/ip4/127.0.0.1/tcp/0')
  if (options.key !== undefined) args.push(`-id=${options.key}`)
  if (options.encryption !== undefined) args.push(`-${options.encryption}=true`)
  if (options.muxer !== undefined) args.push(`-muxer=${options.muxer}`)
  if (options.dht === true) args.push('-dhtServer')
  if (options.relay === true) args.push('-relay')
  if (options.pubsub === true) args.push('-pubsub', `-pubsubRouter=${options.pubsubRouter ?? 'gossipsub'}`)
  return args
}

async function spawnOurs (options: SpawnOptions): Promise<Daemon> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ts-daemon-interop-'))
  return await spawnProcess(process.execPath, [BIN, 'daemon', `-dataDir=${dataDir}`, ...p2pdArgs(options)], 'our daemon', async () => { await rm(dataDir, { recursive: true, force: true }) })
}

/**
 * Our daemon in this process: the same start-up code as `ts-libp2p daemon` (startDaemon) from
 * the same p2pd flags, without a process start per daemon, which on a loaded machine can
 * overrun the suite's own 20 s hook time limit.
 */
async function startOursInProcess (options: SpawnOptions): Promise<Daemon> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ts-daemon-interop-'))
  const daemon = await startDaemon([`-dataDir=${dataDir}`, ...p2pdArgs(options)], () => {})
  return {
    client: createClient(daemon.server.listenAddr),
    async stop () {
      await daemon.stop()
      await rm(dataDir, { recursive: true, force: true })
    }
  }
}

async function spawnP2pd (binary: string, options: SpawnOptions): Promise<Daemon> {
  return await spawnProcess(binary, p2pdArgs(options), 'p2pd', async () => {})
}

/** Runs a p2pd-compatible daemon and waits for its `Control socket:` line. */
async function spawnProcess (command: string, args: string[], name: string, cleanUp: () => Promise<void>): Promise<Daemon> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBUG: '' } })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const control = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`${name} did not start: ${stderr}`)) }, START_TIMEOUT_MS)
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^Control socket: (.+)$/.exec(line)
      if (m !== null) { clearTimeout(timer); resolve(m[1]) }
    })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${name} exited (${code}): ${stderr}`)) })
  })
  return {
    client: createClient(multiaddr(control)),
    async stop () {
      if (child.exitCode === null) {
        const exited = new Promise(resolve => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      await cleanUp()
    }
  }
}

async function spawnJs (options: SpawnOptions): Promise<Daemon> {
  const services: Record<string, any> = { identify: identify(), ping: ping() }
  if (options.pubsub === true) services.pubsub = options.pubsubRouter === 'floodsub' ? floodsub() : gossipsub()
  if (options.relay === true) services.relay = circuitRelayServer()
  if (options.dht === true) services.dht = kadDHT({ protocol: '/ipfs/kad/1.0.0', peerInfoMapper: passthroughMapper, clientMode: false })
  const privateKey = options.key === undefined ? undefined : privateKeyFromProtobuf(await readFile(options.key))
  const encrypter = options.encryption === 'tls' ? tls() : options.encryption === 'plaintext' ? plaintext() : noise()
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: options.noListen === true ? [] : ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp(), circuitRelayTransport()],
    connectionEncrypters: [encrypter],
    streamMuxers: [options.muxer === 'mplex' ? mplex() : yamux()],
    services
  } as any)
  const server = createServer(multiaddr('/ip4/127.0.0.1/tcp/0'), node as any)
  await server.start()
  return {
    client: createClient(server.getMultiaddr()),
    async stop () { await server.stop(); await node.stop() }
  }
}

export const factory: DaemonFactory = {
  async spawn (options) {
    if (options.transport !== undefined && options.transport !== 'tcp') throw new UnsupportedError(`${options.transport} is not run here`)
    const p2pd = process.env.INTEROP_P2PD
    if (p2pd !== undefined && p2pd !== '') return options.type === 'go' ? await spawnP2pd(p2pd, options) : await startOursInProcess(options)
    return options.type === 'go' ? await spawnOurs(options) : await spawnJs(options)
  }
}
