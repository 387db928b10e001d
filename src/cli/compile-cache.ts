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
 */
import module from 'node:module'

module.enableCompileCache?.()
