/** Random, truncated and oversized input into every port-mapping decoder: typed errors only. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { parseXml } from '../../src/nat/upnp/xml.ts'
import { parseSsdpResponse } from '../../src/nat/upnp/ssdp.ts'
import { parseDeviceDescription } from '../../src/nat/upnp/device-description.ts'
import { parseSoapResponse } from '../../src/nat/upnp/soap.ts'
import { decodeReply } from '../../src/nat/pmp/messages.ts'

const TYPED = new Set(['InvalidMessageError', 'MessageTooLargeError', 'UntrustedGatewayError', 'UPnPActionError'])

function onlyTypedErrors (fn: () => unknown): void {
  try {
    fn()
  } catch (err: any) {
    assert.ok(TYPED.has(err?.name), `untyped error: ${err?.name}: ${err?.message}`)
    assert.equal(typeof err.code, 'string')
  }
}

/** XML-ish strings: tags, entities, quotes and CDATA fragments, so the fuzzer reaches deep paths. */
const xmlish = fc.array(fc.oneof(
  fc.constantFrom('<', '>', '</', '/>', '<a>', '</a>', '<s:Envelope>', '</s:Envelope>', '<s:Body>', '</s:Body>', '<s:Fault>', '<UPnPError>', '<errorCode>718</errorCode>',
    '<root>', '</root>', '<service>', '<serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>', '<controlURL>/c</controlURL>', '</service>',
    '&amp;', '&#x41;', '&#99999999;', '&', '"', "'", '<![CDATA[', ']]>', '<!--', '-->', '<?', '?>', '<!DOCTYPE'),
  fc.string({ maxLength: 8 })), { maxLength: 60 }).map(parts => parts.join(''))

test('hostile input: the XML reader, device description and SOAP readers give typed errors only', () => {
  const location = new URL('http://10.0.0.1:5000/d.xml')
  fc.assert(fc.property(xmlish, (doc) => {
    onlyTypedErrors(() => parseXml(doc))
    onlyTypedErrors(() => parseDeviceDescription(doc, location))
    onlyTypedErrors(() => parseSoapResponse(doc, 'AddPortMapping'))
  }), { numRuns: 2000 })
  // Deep nesting and huge inputs are refused by limit, not by the stack or memory.
  onlyTypedErrors(() => parseXml('<a>'.repeat(100_000)))
  assert.throws(() => parseXml('<a>'.repeat(100)), { name: 'MessageTooLargeError' })
  assert.throws(() => parseSoapResponse('<x>' + ' '.repeat(1 << 20) + '</x>', 'A'), { name: 'MessageTooLargeError' })
})

test('hostile input: SSDP answers and NAT-PMP replies give typed errors only', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
    onlyTypedErrors(() => parseSsdpResponse(bytes))
    onlyTypedErrors(() => decodeReply(bytes))
  }), { numRuns: 2000 })
  const answer = new TextEncoder().encode('HTTP/1.1 200 OK\r\nLOCATION: http://10.0.0.1:5000/rootDesc.xml\r\nST: x\r\n\r\n')
  for (let i = 0; i < answer.length; i++) onlyTypedErrors(() => parseSsdpResponse(answer.subarray(0, i)))
  const reply = Uint8Array.of(0, 130, 0, 0, 0, 0, 0, 9, 0x0f, 0xa1, 0x0f, 0xa5, 0, 0, 0, 30)
  for (let i = 0; i < reply.length; i++) onlyTypedErrors(() => decodeReply(reply.subarray(0, i)))
})
