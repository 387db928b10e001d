/**
 * The WebTransport transport (`/ip4|ip6/<ip>/udp/<port>/quic-v1/webtransport/certhash/<mb>...`,
 * webtransport/README.md): browsers dial Node and go peers through their native WebTransport,
 * and in Node we both listen and dial over our own QUIC (HTTP/3 and its WebTransport extension
 * written here, see http3-frames.ts, qpack.ts). A session is authenticated by Noise on its first
 * stream; every libp2p stream is then one WebTransport stream, so connections reach the switch
 * with `native` set (secure and multiplexed, no muxer on top).
 *
 * Usage: `import { webTransport } from 'ts-libp2p/webtransport'`, then
 * `transports: [webTransport()]` and listen on `/ip4/127.0.0.1/udp/0/quic-v1/webtransport`: the
 * listener adds the `/certhash/` of its two certificates to the address it reports. Give
 * `certificateFile` to keep those (and so the address) across restarts.
 *
 * Runtimes: the package.json `#webtransport-runtime` import picks runtime.node.ts (listen and
 * dial over our QUIC) or runtime.browser.ts (dial with `serverCertificateHashes`; no listening).
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from '../../interface/common.ts'
import type { PrivateKey } from '../../interface/keys.ts'
import type { ConnectionEncrypter } from '../../interface/security.ts'
import type { Listener, ListenerInit, RawConnection, Transport } from '../../interface/transport.ts'
import { InvalidMultiaddrError, UnsupportedProtocolError } from '../../util/errors.ts'
import { withDeadline } from '../../util/deadline.ts'
import { peerIdStringOf } from '../../util/multiaddr.ts'
import { peerIdFromString } from '../../peer/peer-id.ts'
import { WebTransportRuntime, canListen } from '#webtransport-runtime'
import { parseWebTransportAddress } from './address.ts'
import type { WebTransportOptions } from './options.ts'

export type { WebTransportOptions } from './options.ts'
export { parseWebTransportAddress, toWebTransportMultiaddr } from './address.ts'
export { encodeCerthash, decodeCerthash, certhashesOf } from '../certhash.ts'
export { Http3Error, Http3ErrorCode, WebTransportSessionError, CertificateHashMismatchError } from './errors.ts'

const DEFAULT_DIAL_TIMEOUT = 10_000

export interface WebTransportComponents {
  privateKey: PrivateKey
  /** The node's encrypters: WebTransport runs their Noise on each session's first stream. */
  connectionEncrypters?: readonly ConnectionEncrypter[]
}

export class WebTransportTransport implements Transport {
  readonly name = 'webtransport'
  readonly #options: WebTransportOptions
  readonly #runtime: WebTransportRuntime

  constructor (options: WebTransportOptions, components: WebTransportComponents) {
    this.#options = options
    this.#runtime = new WebTransportRuntime(components.privateKey, components.connectionEncrypters, options)
  }

  async dial (addr: Multiaddr, options: AbortOptions = {}): Promise<RawConnection> {
    const target = parseWebTransportAddress(addr, 'dial')
    if (target === undefined) throw new InvalidMultiaddrError(`cannot dial ${addr.toString()} with webtransport (a certhash is required)`)
    const peerIdText = target.peerId ?? peerIdStringOf(addr)
    const expected = peerIdText === undefined ? undefined : peerIdFromString(peerIdText)
    return await withDeadline(this.#options.dialTimeout ?? DEFAULT_DIAL_TIMEOUT, options.signal, `WebTransport dial to ${addr.toString()} timed out`,
      async signal => await this.#runtime.dial(target, expected, signal))
  }

  createListener (init: ListenerInit): Listener {
    if (!canListen) throw new UnsupportedProtocolError('WebTransport cannot listen in this runtime')
    return this.#runtime.createListener(init)
  }

  listenFilter (addrs: Multiaddr[]): Multiaddr[] {
    return canListen ? addrs.filter(a => parseWebTransportAddress(a, 'listen') !== undefined) : []
  }

  dialFilter (addrs: Multiaddr[]): Multiaddr[] {
    return addrs.filter(a => parseWebTransportAddress(a, 'dial') !== undefined)
  }

  /** Open QUIC connections of the listeners (Node; 0 in browsers). */
  get connectionCount (): number { return this.#runtime.connectionCount }

  /** Closes every socket (tests; the node closes connections first). */
  async close (): Promise<void> { await this.#runtime.close() }
}

/** The WebTransport transport factory for `transports: [webTransport()]`. */
export function webTransport (options: WebTransportOptions = {}): (components: WebTransportComponents) => Transport {
  return (components: WebTransportComponents) => new WebTransportTransport(options, components)
}
