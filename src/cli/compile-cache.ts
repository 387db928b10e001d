/**
 * The `ts-libp2p` command's own process only: turns on V8's on-disk compile cache
 * (`module.enableCompileCache()`, Node >= 22.1), so the second and later runs of a command
 * reuse the bytecode of every module instead of parsing and compiling it again. A cold
 * one-shot command (`ping`, `identify`) spends most of its time loading code (README,
 * Performance: the cold start). The cache lives in Node's default place (NODE_COMPILE_CACHE, or
 * the system's temporary directory) and NODE_DISABLE_COMPILE_CACHE=1 turns it off. Imported
 * first by main.ts: the modules of the entry's static graph are compiled before any code
 * runs, so the cache covers what loads after, which is everything (main.ts loads cli.ts, and
 * cli.ts each command, dynamically); bin/ts-libp2p.js turns it on before the entry loads at all.
 *
 * `compileEagerlyWhenCached()` (for `perf`'s client only, main.ts): with the cache on, every
 * module loaded after the call is compiled eagerly (V8's `--no-lazy`). By default V8 compiles
 * a function's body on its first call, and the cache holds only what was compiled when the
 * module was, so each run compiled again, on first use, every function of the dial, the
 * handshake, the muxer and the protocol: inside the perf contract's connection + 1-byte window
 * (about half of it in profiles, README: Cold start). Compiled eagerly they are in the cache and
 * a run only reads them. That reading costs more than it saves over a whole short process
 * (every function of every module is read, used or not): `ping --count 1` took ~9 % more CPU
 * with it, so only the command whose figure starts after start-up takes it. Without a cache it
 * would only cost, so it stays off then.
 */
import module from 'node:module'
import { setFlagsFromString } from 'node:v8'

const cache = module.enableCompileCache?.()

export function compileEagerlyWhenCached (): void {
  const { ENABLED, ALREADY_ENABLED } = module.constants?.compileCacheStatus ?? {}
  if (cache !== undefined && (cache.status === ENABLED || cache.status === ALREADY_ENABLED)) setFlagsFromString('--no-lazy')
}
