/**
 * WebRTC Direct without signalling (specs webrtc/webrtc-direct.md): each side builds the other
 * side's SDP from what it already knows. Browser-safe.
 *
 * ICE credentials (the ufrag doubles as the client's identifier at the server):
 * - v1: the client sets its own ufrag and pwd to `libp2p+webrtc+v1/<random>` and expects the
 *   server to use the same pair; the server reads it from the STUN USERNAME. Needs SDP munging
 *   (or a native stack that takes credentials).
 * - v2 (specs PR 715, for browsers that forbid munging): the client keeps its own random
 *   ufrag/pwd and tells the server to use ufrag = pwd = `libp2p+webrtc+v2/<client pwd>`; the
 *   server reads both halves of the STUN USERNAME (`<server ufrag>:<client ufrag>`).
 *
 * Every ufrag from the network is validated here before it reaches native ICE code (a malformed
 * one aborts the process inside libjuice).
 */
import { InvalidUfragError } from './errors.ts'

export const UFRAG_V1_PREFIX = 'libp2p+webrtc+v1/'
export const UFRAG_V2_PREFIX = 'libp2p+webrtc+v2/'
/** RFC 8839: ice-char = ALPHA / DIGIT / "+" / "/"; ufrag 4..256 chars, pwd 22..256. */
const ICE_CHARS = /^[A-Za-z0-9+/]+$/
const MAX_ICE_CREDENTIAL = 256
const MIN_UFRAG = 4
const MIN_PWD = 22

/** A random ICE credential of `length` ice-chars (base64 alphabet). */
export function randomIceString (length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  const bytes = new Uint8Array(length)
  globalThis.crypto.getRandomValues(bytes)
  let out = ''
  for (const b of bytes) out += alphabet[b & 63]
  return out
}

/** The ICE credentials of one WebRTC Direct connection, as the server must use them. */
export interface DirectIceCredentials {
  version: 1 | 2
  clientUfrag: string
  clientPwd: string
  serverUfrag: string
  serverPwd: string
}

function checkIceString (value: string, min: number, what: string): void {
  if (value.length < min || value.length > MAX_ICE_CREDENTIAL || !ICE_CHARS.test(value)) {
    throw new InvalidUfragError(`${what} is not a valid ICE credential (${min}..${MAX_ICE_CREDENTIAL} chars of [A-Za-z0-9+/])`)
  }
}

/**
 * Server side: the credentials from a STUN request's USERNAME halves (`localUfrag` is the first
 * half, the ufrag the client gave us; `remoteUfrag` the client's own). Throws InvalidUfragError
 * for anything that is not a v1 or v2 WebRTC Direct request.
 */
export function credentialsFromStunUsername (localUfrag: string, remoteUfrag: string): DirectIceCredentials {
  checkIceString(localUfrag, MIN_PWD, 'the server ufrag')
  checkIceString(remoteUfrag, MIN_UFRAG, 'the client ufrag')
  if (localUfrag.startsWith(UFRAG_V1_PREFIX)) {
    if (remoteUfrag !== localUfrag) throw new InvalidUfragError('a v1 request must use the same ufrag on both sides')
    return { version: 1, clientUfrag: remoteUfrag, clientPwd: remoteUfrag, serverUfrag: localUfrag, serverPwd: localUfrag }
  }
  if (localUfrag.startsWith(UFRAG_V2_PREFIX)) {
    const clientPwd = localUfrag.slice(UFRAG_V2_PREFIX.length)
    checkIceString(clientPwd, MIN_PWD, 'the client pwd (v2)')
    return { version: 2, clientUfrag: remoteUfrag, clientPwd, serverUfrag: localUfrag, serverPwd: localUfrag }
  }
  throw new InvalidUfragError('the ufrag has neither the libp2p+webrtc+v1/ nor the libp2p+webrtc+v2/ prefix')
}

/** Client side: fresh credentials for a dial. */
export function newClientCredentials (version: 1 | 2): DirectIceCredentials {
  if (version === 1) {
    const ufrag = UFRAG_V1_PREFIX + randomIceString(32)
    return { version, clientUfrag: ufrag, clientPwd: ufrag, serverUfrag: ufrag, serverPwd: ufrag }
  }
  const clientUfrag = randomIceString(16)
  const clientPwd = randomIceString(32)
  const server = UFRAG_V2_PREFIX + clientPwd
  return { version, clientUfrag, clientPwd, serverUfrag: server, serverPwd: server }
}

// ---- certificate fingerprints -------------------------------------------------------------

const SHA2_256 = 0x12

/** `AB:CD:...` as SDP writes a fingerprint. */
export function fingerprintToSdp (digest: Uint8Array): string {
  return Array.from(digest, b => b.toString(16).toUpperCase().padStart(2, '0')).join(':')
}

/** The sha-256 digest of an SDP fingerprint value (`AB:CD:...`); undefined when malformed. */
export function fingerprintFromSdpValue (value: string): Uint8Array | undefined {
  const parts = value.trim().split(':')
  if (parts.length !== 32) return undefined
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++) {
    if (!/^[0-9A-Fa-f]{2}$/.test(parts[i])) return undefined
    out[i] = parseInt(parts[i], 16)
  }
  return out
}

/** The sha-256 fingerprint an SDP declares (`a=fingerprint:sha-256 ...`). */
export function fingerprintFromSdp (sdp: string): Uint8Array | undefined {
  const m = /^a=fingerprint:sha-256 ([0-9A-Fa-f:]+)\s*$/m.exec(sdp)
  return m === null ? undefined : fingerprintFromSdpValue(m[1])
}

/** The multihash (sha2-256) of a fingerprint digest. */
export function fingerprintMultihash (digest: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + digest.length)
  out[0] = SHA2_256
  out[1] = digest.length
  out.set(digest, 2)
  return out
}

const PROLOGUE_PREFIX = new TextEncoder().encode('libp2p-webrtc-noise:')

/** The Noise prologue: `"libp2p-webrtc-noise:" || multihash(client fp) || multihash(server fp)`. */
export function noisePrologue (clientFingerprint: Uint8Array, serverFingerprint: Uint8Array): Uint8Array {
  const c = fingerprintMultihash(clientFingerprint)
  const s = fingerprintMultihash(serverFingerprint)
  const out = new Uint8Array(PROLOGUE_PREFIX.length + c.length + s.length)
  out.set(PROLOGUE_PREFIX, 0)
  out.set(c, PROLOGUE_PREFIX.length)
  out.set(s, PROLOGUE_PREFIX.length + c.length)
  return out
}

// ---- the SDP each side makes up for the other -------------------------------------------

export interface SdpPeer {
  host: string
  port: number
  family: 4 | 6
  ufrag: string
  pwd: string
}

function sdp (peer: SdpPeer, fingerprint: Uint8Array | undefined, setup: 'active' | 'passive', iceLite: boolean): string {
  const ipVersion = peer.family === 6 ? 'IP6' : 'IP4'
  // The server does not know the client's certificate: it skips verification and uses a
  // placeholder; the client checks the server's against the certhash.
  const fp = fingerprint ?? new Uint8Array(32)
  return [
    'v=0',
    `o=- 0 0 IN ${ipVersion} ${peer.host}`,
    's=-',
    't=0 0',
    ...iceLite ? ['a=ice-lite'] : [],
    'a=group:BUNDLE 0',
    `m=application ${peer.port} UDP/DTLS/SCTP webrtc-datachannel`,
    `c=IN ${ipVersion} ${peer.host}`,
    'a=mid:0',
    'a=ice-options:ice2',
    `a=ice-ufrag:${peer.ufrag}`,
    `a=ice-pwd:${peer.pwd}`,
    `a=fingerprint:sha-256 ${fingerprintToSdp(fp)}`,
    `a=setup:${setup}`,
    'a=sctp-port:5000',
    'a=max-message-size:16384',
    `a=candidate:1467250027 1 UDP 1467250027 ${peer.host} ${peer.port} typ host`,
    'a=end-of-candidates',
    ''
  ].join('\r\n')
}

/** Client side: the server's answer (ICE-lite, DTLS server, its certificate's fingerprint). */
export function serverAnswerSdp (server: SdpPeer, serverFingerprint: Uint8Array): string {
  return sdp(server, serverFingerprint, 'passive', true)
}

/** Server side: the client's offer (the client is the DTLS client; its certificate unknown). */
export function clientOfferSdp (client: SdpPeer): string {
  return sdp(client, undefined, 'active', false)
}
