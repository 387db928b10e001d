/**
 * Fuzz targets for the QUIC transport's decoders (packet headers, frames, transport
 * parameters, the TLS 1.3 handshake messages QUIC carries) and the NAT port-mapping clients'
 * (NAT-PMP replies, SSDP answers, UPnP device descriptions and SOAP responses): bytes an
 * on-path attacker or a hostile gateway controls. Seeds are valid encodings, made here.
 */
import { parseHeader, writeLongHeader, writeShortHeader } from '../../src/transport/quic/packet.ts'
import { decodeFrame, writeAck, writeConnectionClose, writeCrypto, writeMaxStreams, writeNewConnectionId, writeNewToken, writePathFrame, writeResetStream, writeStreamHeader } from '../../src/transport/quic/frames.ts'
import { QuicReader } from '../../src/transport/quic/varint.ts'
import { decodeTransportParameters, encodeTransportParameters } from '../../src/transport/quic/transport-parameters.ts'
import {
  HandshakeFramer, HandshakeType, ExtensionType, decodeClientHello, decodeServerHello, decodeEncryptedExtensions, decodeCertificateRequest,
  decodeCertificate, decodeCertificateVerify, decodeAlpn, decodeClientKeyShares, decodeServerKeyShare, decodeSelectedVersion, decodeUint16ListExtension,
  encodeHandshakeMessage, encodeClientHello, encodeServerHello, encodeEncryptedExtensions, encodeCertificate, encodeCertificateVerify, encodeAlpn,
  encodeKeyShareEntry, encodeUint16ListExtension, encodeFinished
} from '../../src/transport/quic/crypto/tls-messages.ts'
import { decodeReply } from '../../src/nat/pmp/messages.ts'
import { parseSsdpResponse } from '../../src/nat/upnp/ssdp.ts'
import { parseDeviceDescription } from '../../src/nat/upnp/device-description.ts'
import { parseSoapResponse } from '../../src/nat/upnp/soap.ts'
import { concatBytes, utf8Encode } from '../../src/util/bytes.ts'
import type { FuzzTarget } from './target.ts'

const utf8Fatal = new TextDecoder('utf-8', { fatal: false })
const GATEWAY = new URL('http://192.168.1.1:5000/rootDesc.xml')

/** Every packet header of a datagram, as the endpoint walks coalesced packets. */
function parseDatagram (datagram: Uint8Array): void {
  let offset = 0
  while (offset < datagram.length) {
    const header = parseHeader(datagram, offset, 8)
    if (header.end <= offset) break
    offset = header.end
  }
}

function decodeFrames (payload: Uint8Array): void {
  const r = new QuicReader(payload)
  while (r.remaining > 0) decodeFrame(r)
}

/** The extensions a ClientHello or ServerHello carries, each through its own decoder. */
function decodeExtensions (extensions: Map<number, Uint8Array>, fromServer: boolean): void {
  for (const [type, body] of extensions) {
    if (type === ExtensionType.alpn) decodeAlpn(body)
    else if (type === ExtensionType.keyShare) { if (fromServer) decodeServerKeyShare(body); else decodeClientKeyShares(body) } else if (type === ExtensionType.supportedVersions) { if (fromServer) decodeSelectedVersion(body); else decodeUint16ListExtension(body, 1, 'supported_versions') } else if (type === ExtensionType.signatureAlgorithms || type === ExtensionType.supportedGroups) decodeUint16ListExtension(body, 2, 'list')
    else if (type === ExtensionType.quicTransportParameters) decodeTransportParameters(body, fromServer)
  }
}

/** The handshake stream: framed into messages, each decoded by its type. */
function decodeHandshake (bytes: Uint8Array): void {
  const framer = new HandshakeFramer()
  for (const message of framer.push(bytes)) {
    switch (message.type) {
      case HandshakeType.clientHello: decodeExtensions(decodeClientHello(message.body).extensions, false); break
      case HandshakeType.serverHello: decodeExtensions(decodeServerHello(message.body).extensions, true); break
      case HandshakeType.encryptedExtensions: decodeExtensions(decodeEncryptedExtensions(message.body), true); break
      case HandshakeType.certificateRequest: decodeCertificateRequest(message.body); break
      case HandshakeType.certificate: decodeCertificate(message.body); break
      case HandshakeType.certificateVerify: decodeCertificateVerify(message.body); break
    }
  }
}

export const quicNatTargets: FuzzTarget[] = [
  { name: 'quic-packet-header', run: parseDatagram },
  { name: 'quic-frames', run: decodeFrames },
  { name: 'quic-transport-parameters', run: (b) => { decodeTransportParameters(b, (b[0] ?? 0) % 2 === 0) } },
  { name: 'quic-tls-handshake', run: decodeHandshake, dictionary: [utf8Encode('libp2p'), Uint8Array.of(0x03, 0x04), Uint8Array.of(0x00, 0x1d)] },
  { name: 'nat-pmp-reply', run: (b) => { decodeReply(b) } },
  { name: 'ssdp-response', run: (b) => { parseSsdpResponse(b) }, dictionary: ['HTTP/1.1 200 OK\r\n', 'LOCATION: ', 'http://', '\r\n', 'ST: ', 'USN: '].map(utf8Encode) },
  {
    name: 'upnp-device-description',
    run: (b) => { parseDeviceDescription(utf8Fatal.decode(b), GATEWAY) },
    dictionary: ['<root>', '</root>', '<service>', '</service>', '<serviceType>', '<controlURL>', '<URLBase>', 'urn:schemas-upnp-org:service:WANIPConnection:1', '<![CDATA[', ']]>', '<!DOCTYPE', '&amp;', '&#x41;'].map(utf8Encode)
  },
  {
    name: 'upnp-soap-response',
    run: (b) => { parseSoapResponse(utf8Fatal.decode(b), 'GetExternalIPAddress') },
    dictionary: ['<s:Envelope>', '<s:Body>', '<s:Fault>', '<u:GetExternalIPAddressResponse>', '<NewExternalIPAddress>', '<errorCode>', '</', '&lt;'].map(utf8Encode)
  }
]

function written (size: number, write: (buf: Uint8Array) => number): Uint8Array {
  const buf = new Uint8Array(size)
  return buf.subarray(0, write(buf))
}

const DEVICE_DESCRIPTION = `<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0"><URLBase>http://192.168.1.1:5000</URLBase><device>
<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><deviceList><device><deviceList><device>
<serviceList><service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>
<controlURL>/ctl/IPConn</controlURL></service></serviceList></device></deviceList></device></deviceList></device></root>`

const SOAP_RESPONSE = `<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>
<u:GetExternalIPAddressResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1"><NewExternalIPAddress>203.0.113.7</NewExternalIPAddress></u:GetExternalIPAddressResponse>
</s:Body></s:Envelope>`

const SOAP_FAULT = `<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>
<detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>718</errorCode><errorDescription>ConflictInMappingEntry</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>`

/** Valid encodings to start from, per target name. */
export function quicNatSeeds (): Record<string, Uint8Array[]> {
  const dcid = new Uint8Array(8).fill(0xd)
  const scid = new Uint8Array(8).fill(0x5)
  const initial = written(64, buf => writeLongHeader(buf, 0, 'initial', dcid, scid, Uint8Array.of(1, 2, 3), 0, 2, 20) + 20)
  const handshake = written(64, buf => writeLongHeader(buf, 0, 'handshake', dcid, scid, undefined, 1, 1, 10) + 10)
  const short = written(32, buf => writeShortHeader(buf, 0, dcid, false, 7, 2) + 8)
  const frames = concatBytes([
    written(64, buf => writeAck(buf, 0, 64, [10, 8, 5, 1], 25)),
    written(64, buf => writeCrypto(buf, 0, 0, utf8Encode('hello'))),
    written(64, buf => { const n = writeStreamHeader(buf, 0, 4, 100, 3, true); buf.set(utf8Encode('abc'), n); return n + 3 }),
    written(64, buf => writeResetStream(buf, 0, 4, 1, 103)),
    written(64, buf => writeMaxStreams(buf, 0, true, 256)),
    written(64, buf => writeNewConnectionId(buf, 0, 1, 0, new Uint8Array(8).fill(7), new Uint8Array(16).fill(9))),
    written(64, buf => writeNewToken(buf, 0, Uint8Array.of(1, 2, 3))),
    written(64, buf => writePathFrame(buf, 0, false, new Uint8Array(8).fill(4))),
    written(64, buf => writeConnectionClose(buf, 0, true, 0, 0, utf8Encode('bye')))
  ])
  const transportParameters = encodeTransportParameters({ initialMaxData: 1 << 20, initialMaxStreamsBidi: 256, maxIdleTimeout: 30_000, initialSourceConnectionId: scid } as never)
  const clientHello = encodeClientHello(new Uint8Array(32).fill(1), [0x1301, 0x1303], [
    [ExtensionType.supportedVersions, Uint8Array.of(2, 0x03, 0x04)],
    [ExtensionType.supportedGroups, encodeUint16ListExtension([0x1d], 2)],
    [ExtensionType.signatureAlgorithms, encodeUint16ListExtension([0x0807, 0x0403], 2)],
    [ExtensionType.alpn, encodeAlpn(['libp2p'])],
    [ExtensionType.keyShare, concatBytes([Uint8Array.of(0, 36), encodeKeyShareEntry({ group: 0x1d, keyExchange: new Uint8Array(32).fill(2) })])],
    [ExtensionType.quicTransportParameters, transportParameters]
  ])
  const serverHello = encodeServerHello(new Uint8Array(32).fill(3), new Uint8Array(0), 0x1301, [
    [ExtensionType.supportedVersions, Uint8Array.of(0x03, 0x04)],
    [ExtensionType.keyShare, encodeKeyShareEntry({ group: 0x1d, keyExchange: new Uint8Array(32).fill(4) })]
  ])
  const server = concatBytes([
    encodeHandshakeMessage(HandshakeType.encryptedExtensions, encodeEncryptedExtensions([[ExtensionType.alpn, encodeAlpn(['libp2p'])], [ExtensionType.quicTransportParameters, transportParameters]])),
    encodeHandshakeMessage(HandshakeType.certificate, encodeCertificate(new Uint8Array(0), [new Uint8Array(40).fill(0x30)])),
    encodeHandshakeMessage(HandshakeType.certificateVerify, encodeCertificateVerify(0x0807, new Uint8Array(64).fill(5))),
    encodeHandshakeMessage(HandshakeType.finished, encodeFinished(new Uint8Array(32).fill(6)))
  ])
  const mappingReply = Uint8Array.of(0, 130, 0, 0, 0, 0, 0, 60, 0x10, 0x01, 0x10, 0x01, 0, 0, 0x1c, 0x20)
  const addressReply = Uint8Array.of(0, 128, 0, 0, 0, 0, 0, 60, 203, 0, 113, 7)
  return {
    'quic-packet-header': [concatBytes([initial, handshake]), short],
    'quic-frames': [frames],
    'quic-transport-parameters': [transportParameters],
    'quic-tls-handshake': [encodeHandshakeMessage(HandshakeType.clientHello, clientHello), concatBytes([encodeHandshakeMessage(HandshakeType.serverHello, serverHello), server])],
    'nat-pmp-reply': [mappingReply, addressReply],
    'ssdp-response': [utf8Encode('HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nUSN: uuid:1234::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nLOCATION: http://192.168.1.1:5000/rootDesc.xml\r\nSERVER: Fuzz/1 UPnP/1.1 MiniUPnPd/2.3\r\n\r\n')],
    'upnp-device-description': [utf8Encode(DEVICE_DESCRIPTION)],
    'upnp-soap-response': [utf8Encode(SOAP_RESPONSE), utf8Encode(SOAP_FAULT)]
  }
}
