/** `ts-libp2p identify MA`: prints what a peer says about itself, as one JSON object. */
import { parseArgs } from 'node:util'
import type { Command } from '../cli.ts'
import { parseMultiaddr, parsePositiveInt, UsageError } from '../args.ts'
import { createEphemeralNode } from '../ephemeral-node.ts'
import { parseSecurityOptions, SECURITY_HELP, SECURITY_OPTIONS } from '../security-options.ts'
import { withDeadline } from '../../util/deadline.ts'

export const identifyCommand: Command = {
  help: `Usage: ts-libp2p identify MA [--timeout MS] [--security noise,tls] [--psk FILE]

Connects to MA with a throwaway identity, runs /ipfs/id/1.0.0 and prints one JSON object:
{"peerId","protocols","listenAddrs","observedAddr","agentVersion","protocolVersion"}.

Options:
  --timeout MS  budget for connecting and identifying (default 10000)
${SECURITY_HELP}
  -h, --help    show this help`,
  async run (argv) {
    const { values, positionals } = parseArgs({ args: argv, options: { timeout: { type: 'string' }, ...SECURITY_OPTIONS }, strict: true, allowPositionals: true })
    if (positionals.length !== 1) throw new UsageError('identify needs exactly one multiaddr')
    const target = parseMultiaddr(positionals[0])
    const timeout = parsePositiveInt(values.timeout, 'timeout', 10_000)
    const node = await createEphemeralNode({ target, timeout, security: await parseSecurityOptions(values) })
    try {
      await node.start()
      const result = await withDeadline(timeout, undefined, `identify timed out after ${timeout} ms`, async (signal) => {
        const connection = await node.dial(target, { signal })
        return await node.services.identify.identify(connection, { signal })
      })
      process.stdout.write(JSON.stringify({
        peerId: result.peerId.toString(),
        protocols: result.protocols,
        listenAddrs: result.listenAddrs.map(a => a.toString()),
        observedAddr: result.observedAddr?.toString(),
        agentVersion: result.agentVersion,
        protocolVersion: result.protocolVersion
      }) + '\n')
      return 0
    } finally {
      await node.stop()
    }
  }
}
