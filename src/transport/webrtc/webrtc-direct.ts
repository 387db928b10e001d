/**
 * The WebRTC Direct transport (`/ip4|ip6/<ip>/udp/<port>/webrtc-direct/certhash/<mb>`,
 * specs webrtc/webrtc-direct.md): a browser (or a Node peer) reaches a server that has no
 * CA-signed certificate and no signalling service. ICE-lite on one UDP port per listen
 * address, DTLS with a self-signed certificate whose hash is in the address, then Noise on data
 * channel 0 binds both certificates to the peer ids. Streams are data channels (stream.ts), so
 * connections reach the switch with `native` set (secure and multiplexed).
 *
 * Usage: `import { webRTCDirect } from 'ts-libp2p/webrtc-direct'`, then
 * `transports: [webRTCDirect({ certificateDirectory })]` and listen on
 * `/ip4/10.0.0.1/udp/0/webrtc-direct`: the listener adds its `/certhash/`. In Node this needs
 * the optional dependency `node-datachannel` (WebRTCUnavailableError otherwise).
 *
 * Runtimes: the package.json `#webrtc-direct-runtime` import picks direct-runtime.node.ts or
 * direct-runtime.browser.ts.
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
import { canListen, createWebRTCDirectListener, dialWebRTCDirect } from '#webrtc-direct-runtime'
import type { WebRTCDirectRuntimeOptions } from '#webrtc-direct-runtime'
import { parseWebRTCDirectAddress } from './direct-address.ts'
import { noiseOf } from './direct-upgrade.ts'

export { parseWebRTCDirectAddress, toWebRTCDirectMultiaddr } from './direct-address.ts'
export { WebRTCMessageError, WebRTCFrameTooLargeError, WebRTCUnavailableError, WebRTCConnectionError, InvalidUfragError } from './errors.ts'

export interface WebRTCDirectOptions extends WebRTCDirectRuntimeOptions {
  /** Whole dial budget: ICE, DTLS and Noise (default 10 s). */
  dialTimeout?: number
}

export interface WebRTCDirectComponents {
  privateKey: PrivateKey
  /** The node's encrypters: WebRTC Direct runs their Noise on data channel 0. */
  connectionEncrypters?: readonly ConnectionEncrypter[]
}

export class WebRTCDirectTransport implements Transport {
  readonly name = 'webrtc-direct'
  readonly #options: WebRTCDirectOptions
  readonly #components: WebRTCDirectComponents

  constructor (options: WebRTCDirectOptions, components: WebRTCDirectComponents) {
    this.#options = options
    this.#components = components
  }

  async dial (addr: Multiaddr, options: AbortOptions = {}): Promise<RawConnection> {
    const target = parseWebRTCDirectAddress(addr, 'dial')
    if (target === undefined) throw new InvalidMultiaddrError(`cannot dial ${addr.toString()} with webrtc-direct (a certhash is required)`)
    const peerIdText = target.peerId ?? peerIdStringOf(addr)
    const expected = peerIdText === undefined ? undefined : peerIdFromString(peerIdText)
    const noise = noiseOf(this.#components.connectionEncrypters)
    return await withDeadline(this.#options.dialTimeout ?? 10_000, options.signal, `WebRTC Direct dial to ${addr.toString()} timed out`,
      async signal => await dialWebRTCDirect(target, noise, expected, this.#options, signal))
  }

  createListener (init: ListenerInit): Listener {
    if (!canListen) throw new UnsupportedProtocolError('WebRTC Direct cannot listen in this runtime')
    return createWebRTCDirectListener(() => noiseOf(this.#components.connectionEncrypters), this.#options, init)
  }

  listenFilter (addrs: Multiaddr[]): Multiaddr[] {
    return canListen ? addrs.filter(a => parseWebRTCDirectAddress(a, 'listen') !== undefined) : []
  }

  dialFilter (addrs: Multiaddr[]): Multiaddr[] {
    return addrs.filter(a => parseWebRTCDirectAddress(a, 'dial') !== undefined)
  }
}

/** The WebRTC Direct transport factory for `transports: [webRTCDirect()]`. */
export function webRTCDirect (options: WebRTCDirectOptions = {}): (components: WebRTCDirectComponents) => Transport {
  return (components: WebRTCDirectComponents) => new WebRTCDirectTransport(options, components)
}
