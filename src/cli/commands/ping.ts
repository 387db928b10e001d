/** `ts-libp2p ping MA`: pings a peer from a throwaway node, one JSON line per ping. */
import { parseArgs } from 'node:util'
import type { Command } from '../cli.ts'
import { parseMultiaddr, parsePositiveInt, UsageError } from '../args.ts'
import { createEphemeralNode } from '../ephemeral-node.ts'
import { parseSecurityOptions, SECURITY_HELP, SECURITY_OPTIONS } from '../security-options.ts'
import { withDeadline } from '../../util/deadline.ts'
import { delay } from '../../util/timers.ts'

export const pingCommand: Command = {
  help: `Usage: ts-libp2p ping MA [--count N] [--interval MS] [--timeout MS] [--security noise,tls] [--psk FILE]

Connects to MA (ideally ending in /p2p/<peer id>) with a throwaway identity and sends /ipfs/ping
requests, printing one line of JSON per ping with the remote address of the connection it
used: {"seq":1,"rttMs":0.41,"addr":"/ip4/.../tcp/4001/p2p/..."}. Each ping takes the best
connection open at that moment, so a relayed connection upgraded to a direct one shows.
Exits 0 when every ping succeeded, 1 with a one-line reason on stderr otherwise.

Options:
  --count N      number of pings (default 1)
  --interval MS  pause between pings (default 1000)
  --timeout MS   budget for the connection and for each ping (default 10000)
${SECURITY_HELP}
  -h, --help     show this help`,
  async run (argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { count: { type: 'string' }, interval: { type: 'string' }, timeout: { type: 'string' }, ...SECURITY_OPTIONS },
      strict: true,
      allowPositionals: true
    })
    if (positionals.length !== 1) throw new UsageError('ping needs exactly one multiaddr')
    const target = parseMultiaddr(positionals[0])
    const count = parsePositiveInt(values.count, 'count', 1)
    const interval = parsePositiveInt(values.interval, 'interval', 1000, true)
    const timeout = parsePositiveInt(values.timeout, 'timeout', 10_000)
    const node = await createEphemeralNode({ target, timeout, security: await parseSecurityOptions(values) })
    try {
      await node.start()
      const connection = await withDeadline(timeout, undefined, `dialing timed out after ${timeout} ms`, async signal => await node.dial(target, { signal }))
      for (let seq = 1; seq <= count; seq++) {
        if (seq > 1 && interval > 0) await delay(interval)
        // The connection open now, a direct one before a relayed one (openConnection's rule).
        const current = connection.status === 'open' && connection.limits === undefined ? connection : await node.dial(connection.remotePeer)
        const rtt = await withDeadline(timeout, undefined, `ping timed out after ${timeout} ms`, async signal => await node.services.ping.ping(current, { signal }))
        process.stdout.write(JSON.stringify({ seq, rttMs: Math.round(rtt * 1000) / 1000, addr: current.remoteAddr.toString() }) + '\n')
      }
      return 0
    } finally {
      await node.stop()
    }
  }
}
