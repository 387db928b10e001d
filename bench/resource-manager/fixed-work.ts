/**
 * A fixed amount of work for an instruction count of the resource manager's cost (bench:rm
 * --callgrind runs this under valgrind): one pair (pair.ts), a warm-up, then `--bytes` moved and
 * `--streams` opened, and exit. With `--bytes 0 --streams 0` it counts what the set-up alone
 * costs, which the caller subtracts. Run with node's --single-threaded so V8 compiles on the main
 * thread and the count does not depend on how the machine schedules its threads, and with
 * --predictable-gc-schedule so GCs follow allocation, not timers (instructions.ts says why).
 *
 *   node --single-threaded --predictable-gc-schedule bench/resource-manager/fixed-work.ts --stack noise+yamux --side on --bytes 4194304 --streams 200
 */
import { STACKS, makePair, transfer, openStreams } from './pair.ts'
import type { Stack, Side } from './pair.ts'

const flags = new Map<string, string>()
for (let i = 2; i < process.argv.length; i += 2) flags.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1])
const stack = flags.get('stack') as Stack
const side = flags.get('side') as Side
const bytes = Number(flags.get('bytes'))
const streams = Number(flags.get('streams'))
if (!(STACKS as readonly string[]).includes(stack) || (side !== 'on' && side !== 'off') || !Number.isSafeInteger(bytes) || !Number.isSafeInteger(streams)) {
  throw new Error('usage: --stack noise+yamux|quic --side on|off --bytes N --streams N')
}
const pair = await makePair(stack, side, true)
// the same warm-up for the set-up-only count and the work count, so it cancels out
await transfer(pair.connection, 1024 * 1024)
await openStreams(pair.connection, 20)
if (bytes > 0) await transfer(pair.connection, bytes)
if (streams > 0) await openStreams(pair.connection, streams)
await pair.client.stop()
await pair.server.stop()
