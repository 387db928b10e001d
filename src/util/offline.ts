/**
 * The offline switch: one environment variable, `TS_LIBP2P_OFFLINE`, that keeps a node from
 * reaching outside the machine on its own. When it is on, the defaults that talk to the world
 * without being asked (the public bootstrap list, the Amino DHT joined through it, mDNS on the
 * LAN) stay off; what the caller configures explicitly (listen addresses, `--bootstrap`, a
 * `bootstrap()` or `mdns()` service) still runs.
 *
 * - `TS_LIBP2P_OFFLINE=1` (or `true`): offline.
 * - `TS_LIBP2P_OFFLINE=0` (or `false`): online, even under a test runner: the tests of the
 *   defaults set this inside network namespaces that have no route out.
 * - unset: offline when running under `node --test` (which sets NODE_TEST_CONTEXT in every test
 *   process, and children inherit it), online otherwise. Why the fallback: a developer who runs
 *   one test file by hand must not send packets off the machine either.
 *
 * `npm test`, the interop, fuzz, soak and benchmark scripts set TS_LIBP2P_OFFLINE=1 explicitly,
 * so every process they start (our CLI included) inherits it. Browser-safe: no `process` there
 * means online unless the caller says otherwise through options.
 */

export const OFFLINE_ENV = 'TS_LIBP2P_OFFLINE'

type Env = Record<string, string | undefined>

function processEnv (): Env | undefined {
  return (globalThis as { process?: { env?: Env } }).process?.env
}

/**
 * Whether the offline switch is on in `env` (default: this process's environment; `null`
 * stands for a runtime without one, such as a browser).
 */
export function isOffline (env: Env | null = processEnv() ?? null): boolean {
  if (env === null) return false
  const value = env[OFFLINE_ENV]?.trim().toLowerCase()
  if (value === '1' || value === 'true' || value === 'yes') return true
  if (value === '0' || value === 'false' || value === 'no') return false
  return env.NODE_TEST_CONTEXT !== undefined && env.NODE_TEST_CONTEXT !== ''
}
