/**
 * The `ts-libp2p` command line: dispatches to a command module and turns every failure into
 * one line on stderr and a non-zero exit code (2 for usage errors, 1 for everything else).
 * Node-only (the whole src/cli tree is).
 *
 * Commands load lazily so `--help` and `id` stay fast and never open sockets.
 */
import { VERSION } from '../util/version.ts'
import { oneLine, UsageError } from './args.ts'

export interface Command {
  help: string
  /** Resolves with the exit code. */
  run(argv: string[]): Promise<number>
}

const COMMANDS: Record<string, { summary: string, load: () => Promise<Command> }> = {
  start: { summary: 'run a node until interrupted', load: async () => (await import('./commands/start.ts')).startCommand },
  id: { summary: 'print this node\'s peer id', load: async () => (await import('./commands/id.ts')).idCommand },
  peers: { summary: 'list the peers this node knows (from its data dir)', load: async () => (await import('./commands/peers.ts')).peersCommand },
  ping: { summary: 'ping a peer (one JSON line per ping)', load: async () => (await import('./commands/ping.ts')).pingCommand },
  identify: { summary: 'print a peer\'s identify answer as JSON', load: async () => (await import('./commands/identify.ts')).identifyCommand },
  dht: { summary: 'query the Kademlia DHT (find-peer, closest-peers, provide, find-providers, put, get)', load: async () => (await import('./commands/dht.ts')).dhtCommand },
  perf: { summary: 'perf benchmark server or client (test-plans perf contract)', load: async () => (await import('./commands/perf.ts')).perfCommand },
  daemon: { summary: 'a go-libp2p-daemon (p2pd) compatible daemon: control socket, p2pd flags', load: async () => (await import('./commands/daemon.ts')).daemonCommand },
  pubsub: { summary: 'publish a message on a pubsub topic (pubsub pub TOPIC DATA)', load: async () => (await import('./commands/pubsub.ts')).pubsubCommand },
  add: { summary: 'add a file to the data dir\'s block store (UnixFS, kubo\'s CIDs); prints the root CID', load: async () => (await import('./commands/add.ts')).addCommand },
  get: { summary: 'fetch a UnixFS file by CID over Bitswap (get CID --bootstrap MA -o FILE)', load: async () => (await import('./commands/get.ts')).getCommand },
  doctor: { summary: 'probe a peer over every transport, security and muxer; report what works and what looks wrong', load: async () => (await import('./commands/doctor.ts')).doctorCommand }
}

export function version (): string {
  return VERSION
}

function topLevelHelp (): string {
  const lines = ['Usage: ts-libp2p <command> [options]', '', 'Commands:']
  for (const [name, { summary }] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${summary}`)
  lines.push('', 'Options:', '  -h, --help     show help (also: ts-libp2p <command> --help)', '  -v, --version  print the version',
    '', 'Debug logging: DEBUG=ts-libp2p:* ts-libp2p ...')
  return lines.join('\n')
}

export async function run (argv: string[]): Promise<number> {
  try {
    const [name, ...rest] = argv
    if (name === '--version' || name === '-v') {
      process.stdout.write(`${version()}\n`)
      return 0
    }
    if (name === '--help' || name === '-h' || name === 'help') {
      process.stdout.write(`${topLevelHelp()}\n`)
      return 0
    }
    if (name === undefined) throw new UsageError('missing command (see ts-libp2p --help)')
    const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
    if (entry === undefined) throw new UsageError(`unknown command '${name}' (see ts-libp2p --help)`)
    const command = await entry.load()
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`${command.help}\n`)
      return 0
    }
    return await command.run(rest)
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true
    process.stderr.write(`ts-libp2p: ${oneLine(err)}\n`)
    return usage ? 2 : 1
  }
}
