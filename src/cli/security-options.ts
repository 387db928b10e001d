/**
 * The CLI's security flags, shared by `start`, `ping` and `identify`:
 * `--security noise,tls` (the encrypters, in preference order; default noise) and
 * `--psk FILE` (join the private network of that key file).
 * Each encrypter loads only when named: a cold `ping` pays for Noise alone, not for TLS's
 * certificate code or the private network's cipher.
 */
import { readFileSync } from 'node:fs'
import type { ConnectionEncrypter, ConnectionProtector } from '../interface/security.ts'
import type { ComponentFactory } from '../node/options.ts'
import { UsageError } from './args.ts'

export const SECURITY_HELP = `  --security LIST  connection encrypters in preference order: noise, tls or noise,tls (default noise)
  --psk FILE       join the private network of this key file (/key/swarm/psk/1.0.0/)`

export const SECURITY_OPTIONS = {
  security: { type: 'string' },
  psk: { type: 'string' }
} as const

export interface SecurityConfig {
  connectionEncrypters: Array<ComponentFactory<ConnectionEncrypter>>
  connectionProtector?: ComponentFactory<ConnectionProtector>
}

export async function parseSecurityOptions (values: { security?: string, psk?: string }): Promise<SecurityConfig> {
  const names = (values.security ?? 'noise').split(',').map(n => n.trim())
  for (const name of names) {
    if (name !== 'noise' && name !== 'tls') throw new UsageError(`--security takes noise, tls or both (comma-separated), got '${name}'`)
  }
  if (new Set(names).size !== names.length) throw new UsageError('--security lists an encrypter twice')
  const connectionEncrypters: Array<ComponentFactory<ConnectionEncrypter>> = []
  for (const name of names) {
    connectionEncrypters.push(name === 'noise'
      ? (await import('../security/noise/index.ts')).noise()
      : (await import('../security/tls/index.ts')).tls())
  }
  const config: SecurityConfig = { connectionEncrypters }
  if (values.psk !== undefined) {
    let file: Uint8Array
    try {
      file = readFileSync(values.psk)
    } catch (err) {
      throw new UsageError(`--psk: cannot read '${values.psk}': ${(err as Error).message}`)
    }
    const { preSharedKey } = await import('../security/pnet/index.ts')
    try {
      config.connectionProtector = preSharedKey({ psk: file })
    } catch (err) {
      throw new UsageError(`--psk: ${(err as Error).message}`)
    }
  }
  return config
}
