/**
 * WebRTC Direct addresses: `/ip4|ip6/<ip>/udp/<port>/webrtc-direct[/certhash/<mb>...][/p2p/<id>]`
 * (webrtc/webrtc-direct.md). A dial needs at least one certhash (sha2-256 of the listener's
 * certificate: the DTLS fingerprint to expect). Browser-safe.
 */
import { multiaddr, CODE_WEBRTC_DIRECT } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { encodeCerthash, parseCerthashAddress } from '../certhash.ts'
import type { CerthashTarget } from '../certhash.ts'

/** Where a WebRTC Direct address points; its certhashes are the listener's DTLS fingerprints. */
export type WebRTCDirectTarget = CerthashTarget

/** Parses a WebRTC Direct address; undefined for any other shape (or a DNS host). */
export function parseWebRTCDirectAddress (addr: Multiaddr, mode: 'dial' | 'listen'): WebRTCDirectTarget | undefined {
  return parseCerthashAddress(addr, [CODE_WEBRTC_DIRECT], mode)
}

export function toWebRTCDirectMultiaddr (ip: string, port: number, family: 4 | 6, certhashes: readonly Uint8Array[] = []): Multiaddr {
  return multiaddr(`/ip${family}/${ip}/udp/${port}/webrtc-direct${certhashes.map(h => `/certhash/${encodeCerthash(h)}`).join('')}`)
}
