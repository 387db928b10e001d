/** The shape of the per-runtime defaults (src/node/defaults.node.ts, defaults.browser.ts). */
import type { Libp2pOptions, ServiceFactories } from './options.ts'

export interface Defaults {
  /** `privateNetwork`: a connection protector is set, so transports it cannot cover stay out. */
  transports(options?: { privateNetwork?: boolean }): NonNullable<Libp2pOptions['transports']>
  connectionEncrypters(): NonNullable<Libp2pOptions['connectionEncrypters']>
  streamMuxers(): NonNullable<Libp2pOptions['streamMuxers']>
  /** `offline`: leave out what reaches the public network by itself (see util/offline.ts). */
  services(options?: { offline?: boolean }): ServiceFactories
}
