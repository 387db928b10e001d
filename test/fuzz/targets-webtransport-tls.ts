/**
 * Fuzz targets for what a WebTransport peer and a TLS peer control before they are
 * authenticated: HTTP/3 frames on a control or request stream, SETTINGS and GOAWAY payloads,
 * QPACK field sections (with Huffman strings) and the extended CONNECT checks made on them, the
 * WebTransport certificate reader, and the libp2p TLS certificate check (async: it verifies
 * signatures). Joined into targets.ts's list and seeds; seeds are valid encodings made here.
 */
import { encodeFrame, encodeGoaway, encodeSettings, decodeGoaway, decodeSettings, readFrame, Http3FrameType, Http3Setting } from '../../src/transport/webtransport/http3-frames.ts'
import { decodeFieldSection, encodeFieldSection } from '../../src/transport/webtransport/qpack.ts'
import { huffmanDecode } from '../../src/transport/webtransport/huffman.ts'
import { checkConnectRequest, connectRequestFields, connectResponseFields, responseStatus } from '../../src/transport/webtransport/session-headers.ts'
import { generateWebTransportCertificate, readCertificate } from '../../src/transport/webtransport/certificates.node.ts'
import { generateCertificate, verifyCertificate } from '../../src/peer/tls-certificate.ts'
import { generateKeyPairFromSeed } from '../../src/crypto/index.ts'
import { StreamReader } from '../../src/util/stream-reader.ts'
import { duplexPair } from '../../src/util/duplex-pair.ts'
import { concatBytes, utf8Encode } from '../../src/util/bytes.ts'
import type { FuzzTarget } from './target.ts'

const MAX_FIELD_SECTION = 16 * 1024
/** A time inside the seeds' validity, so mutations reach the signature checks. */
const CHECKED_AT = new Date('2026-12-01T00:00:00Z')

/** Every frame of `bytes` read as one stream's content, as the HTTP/3 layer reads it. */
async function readFrames (bytes: Uint8Array): Promise<void> {
  const [writer, readable] = duplexPair({ highWaterMark: 1 << 20 })
  writer.send(bytes)
  await writer.closeWrite()
  const reader = new StreamReader(readable)
  for (let frames = 0; frames < 64; frames++) {
    const frame = await readFrame(reader, { maxPayload: 64 * 1024 })
    if (frame === null) return
    if (frame.type === Http3FrameType.SETTINGS) decodeSettings(frame.payload)
    else if (frame.type === Http3FrameType.GOAWAY) decodeGoaway(frame.payload)
    else if (frame.type === Http3FrameType.HEADERS) headers(frame.payload)
  }
}

/** A field section decoded and checked both as a CONNECT request and as its response. */
function headers (section: Uint8Array): void {
  const fields = decodeFieldSection(section, MAX_FIELD_SECTION)
  checkConnectRequest(fields)
  responseStatus(fields)
}

export const webTransportTlsTargets: FuzzTarget[] = [
  { name: 'http3-frames', run: readFrames },
  { name: 'http3-settings', run: (b) => { decodeSettings(b) } },
  { name: 'qpack-field-section', run: headers, dictionary: [utf8Encode(':protocol'), utf8Encode('webtransport'), utf8Encode('CONNECT'), utf8Encode(':authority')] },
  { name: 'qpack-huffman', run: (b) => { huffmanDecode(b, 4096) } },
  { name: 'webtransport-certificate', run: (b) => { readCertificate(b) } },
  { name: 'tls-certificate', run: async (b) => { await verifyCertificate(b, { now: CHECKED_AT }) } }
]

export async function webTransportTlsSeeds (): Promise<Record<string, Uint8Array[]>> {
  const request = encodeFieldSection(connectRequestFields('127.0.0.1:4433'))
  const response = encodeFieldSection(connectResponseFields('200'))
  const settings = encodeSettings(new Map<number, number>([[Http3Setting.ENABLE_CONNECT_PROTOCOL, 1], [Http3Setting.H3_DATAGRAM, 1], [Http3Setting.WT_MAX_SESSIONS, 1]]))
  const hostKey = generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(2))
  const tls = await generateCertificate(hostKey, { notBefore: new Date('2026-11-01T00:00:00Z'), notAfter: new Date('2027-11-01T00:00:00Z') })
  const webTransport = await generateWebTransportCertificate(new Date('2026-11-25T00:00:00Z'))
  return {
    'http3-frames': [
      concatBytes([encodeFrame(Http3FrameType.SETTINGS, settings), encodeFrame(Http3FrameType.GOAWAY, encodeGoaway(4))]),
      concatBytes([encodeFrame(Http3FrameType.HEADERS, request), encodeFrame(Http3FrameType.DATA, utf8Encode('x'))])
    ],
    'http3-settings': [settings],
    'qpack-field-section': [request, response],
    'qpack-huffman': [huffmanSeed()],
    'webtransport-certificate': [webTransport.der],
    'tls-certificate': [tls.der]
  }
}

/** "www.example.com" Huffman-coded (RFC 7541, C.4.1): a valid string to mutate from. */
function huffmanSeed (): Uint8Array {
  return Uint8Array.of(0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff)
}
