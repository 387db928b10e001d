import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseXml, descendantsNamed } from '../../src/nat/upnp/xml.ts'
import { buildMSearch, parseSsdpResponse } from '../../src/nat/upnp/ssdp.ts'
import { parseDeviceDescription, WAN_IP_CONNECTION_V1, WAN_IP_CONNECTION_V2, WAN_PPP_CONNECTION_V1 } from '../../src/nat/upnp/device-description.ts'
import { buildSoapRequest, parseSoapResponse, soapActionHeader } from '../../src/nat/upnp/soap.ts'

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

test('xml: elements by local name, entities and CDATA decoded, comments and declarations skipped', () => {
  const root = parseXml('<?xml version="1.0"?><!-- hi --><a:root xmlns:a="x" attr="1 > 0"><b>x &amp; y &#65;&#x42;</b><c/><b><![CDATA[<raw>]]></b></a:root>')
  assert.equal(root.name, 'root')
  assert.deepEqual(descendantsNamed(root, 'b').map(b => b.text), ['x & y AB', '<raw>'])
  assert.equal(root.children[1].name, 'c')
})

test('xml: refuses DOCTYPE, unbalanced tags, unknown entities, two roots, and limits', () => {
  const bad = ['<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', '<a><b></a>', '<a>&bogus;</a>', '<a/><b/>', '<a>', 'text', '<a>&amp</a>', '<a b<></a>', '']
  for (const doc of bad) assert.throws(() => parseXml(doc), { name: 'InvalidMessageError' }, doc)
  assert.throws(() => parseXml('<a>' + 'x'.repeat(100) + '</a>', { maxBytes: 50, maxDepth: 4, maxElements: 4 }), { name: 'MessageTooLargeError' })
  assert.throws(() => parseXml('<a><a><a><a><a></a></a></a></a></a>', { maxBytes: 500, maxDepth: 4, maxElements: 40 }), { name: 'MessageTooLargeError' })
  assert.throws(() => parseXml('<a>' + '<b/>'.repeat(10) + '</a>', { maxBytes: 500, maxDepth: 4, maxElements: 5 }), { name: 'MessageTooLargeError' })
})

test('ssdp: M-SEARCH names the IGD search target; an answer gives its LOCATION', () => {
  const request = new TextDecoder().decode(buildMSearch())
  assert.match(request, /^M-SEARCH \* HTTP\/1\.1\r\n/)
  assert.match(request, /\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n/)
  assert.match(request, /\r\nMAN: "ssdp:discover"\r\n/)
  assert.ok(request.endsWith('\r\n\r\n'))
  const answer = parseSsdpResponse(bytes('HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nUSN: uuid:1::x\r\nEXT:\r\nSERVER: Debian UPnP/1.1 MiniUPnPd/2.3.1\r\nLocation: http://10.0.0.1:5000/rootDesc.xml\r\n\r\n'))
  assert.equal(answer.location.href, 'http://10.0.0.1:5000/rootDesc.xml')
  assert.equal(answer.searchTarget, 'urn:schemas-upnp-org:device:InternetGatewayDevice:1')
  assert.equal(answer.server, 'Debian UPnP/1.1 MiniUPnPd/2.3.1')
})

test('ssdp: refuses non-200, missing or non-http LOCATION, bad headers, oversize', () => {
  for (const text of ['NOTIFY * HTTP/1.1\r\n\r\n', 'HTTP/1.1 404 Not Found\r\nLOCATION: http://a/\r\n\r\n', 'HTTP/1.1 200 OK\r\nST: x\r\n\r\n',
    'HTTP/1.1 200 OK\r\nLOCATION: file:///etc/passwd\r\n\r\n', 'HTTP/1.1 200 OK\r\nLOCATION: ::::\r\n\r\n', 'HTTP/1.1 200 OK\r\nno colon\r\n\r\n']) {
    assert.throws(() => parseSsdpResponse(bytes(text)), { name: 'InvalidMessageError' }, text)
  }
  assert.throws(() => parseSsdpResponse(new Uint8Array(4096)), { name: 'MessageTooLargeError' })
  assert.throws(() => parseSsdpResponse(bytes('HTTP/1.1 200 OK\r\n' + 'A: b\r\n'.repeat(40) + 'LOCATION: http://a/\r\n\r\n')), { name: 'MessageTooLargeError' })
  assert.throws(() => parseSsdpResponse(Uint8Array.of(0xff, 0xfe)), { name: 'InvalidMessageError' })
})

const description = (services: string, urlBase = ''): string => `<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0">${urlBase}<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
  <deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType><deviceList><device><serviceList>${services}</serviceList></device></deviceList></device></deviceList></device></root>`
const service = (type: string, control: string): string => `<service><serviceType>${type}</serviceType><serviceId>x</serviceId><controlURL>${control}</controlURL></service>`

test('device description: prefers WANIPConnection:2, then :1, then PPP; resolves the control URL', () => {
  const location = new URL('http://10.0.0.1:5000/rootDesc.xml')
  assert.deepEqual(parseDeviceDescription(description(service(WAN_PPP_CONNECTION_V1, '/ppp') + service(WAN_IP_CONNECTION_V1, '/ip1') + service(WAN_IP_CONNECTION_V2, 'ctl/ip2')), location),
    { serviceType: WAN_IP_CONNECTION_V2, controlUrl: new URL('http://10.0.0.1:5000/ctl/ip2') })
  assert.equal(parseDeviceDescription(description(service(WAN_PPP_CONNECTION_V1, '/ppp') + service(WAN_IP_CONNECTION_V1, '/ip1')), location).serviceType, WAN_IP_CONNECTION_V1)
  assert.equal(parseDeviceDescription(description(service(WAN_PPP_CONNECTION_V1, '/ppp')), location).controlUrl.href, 'http://10.0.0.1:5000/ppp')
  assert.equal(parseDeviceDescription(description(service(WAN_IP_CONNECTION_V1, 'ctl'), '<URLBase>http://10.0.0.1:49000/base/</URLBase>'), location).controlUrl.href, 'http://10.0.0.1:49000/base/ctl')
})

test('device description: a control URL on another host is untrusted; none at all is invalid', () => {
  const location = new URL('http://10.0.0.1:5000/rootDesc.xml')
  assert.throws(() => parseDeviceDescription(description(service(WAN_IP_CONNECTION_V1, 'http://8.8.8.8/ctl')), location), { name: 'UntrustedGatewayError' })
  assert.throws(() => parseDeviceDescription(description(service(WAN_IP_CONNECTION_V1, 'x'), '<URLBase>http://8.8.8.8/</URLBase>'), location), { name: 'UntrustedGatewayError' })
  assert.throws(() => parseDeviceDescription(description(service(WAN_IP_CONNECTION_V1, 'https://10.0.0.1/ctl')), location), { name: 'UntrustedGatewayError' })
  assert.throws(() => parseDeviceDescription(description(service('urn:x:service:Other:1', '/x')), location), { name: 'InvalidMessageError' })
  assert.throws(() => parseDeviceDescription(description(service(WAN_IP_CONNECTION_V1, '')), location), { name: 'InvalidMessageError' })
  assert.throws(() => parseDeviceDescription('<html/>', location), { name: 'InvalidMessageError' })
})

test('soap: the request envelope escapes arguments; answers and UPnP faults are read', () => {
  const request = buildSoapRequest(WAN_IP_CONNECTION_V1, 'AddPortMapping', [['NewExternalPort', 4001], ['NewPortMappingDescription', 'a<b&c']])
  assert.match(request, /<u:AddPortMapping xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1"><NewExternalPort>4001<\/NewExternalPort><NewPortMappingDescription>a&lt;b&amp;c<\/NewPortMappingDescription><\/u:AddPortMapping>/)
  assert.equal(soapActionHeader(WAN_IP_CONNECTION_V1, 'AddPortMapping'), '"urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping"')
  const ok = parseSoapResponse('<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:GetExternalIPAddressResponse xmlns:u="x"><NewExternalIPAddress>11.0.0.1</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>', 'GetExternalIPAddress')
  assert.equal(ok.get('NewExternalIPAddress'), '11.0.0.1')
  const fault = '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>718</errorCode><errorDescription>ConflictInMappingEntry</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>'
  assert.throws(() => parseSoapResponse(fault, 'AddPortMapping'), (err: any) => err.name === 'UPnPActionError' && err.code === 'ERR_UPNP_ACTION' && err.upnpErrorCode === 718 && /ConflictInMappingEntry/.test(err.message))
})

test('soap: refuses other roots, missing bodies, the wrong answer, faults without a code, oversize', () => {
  const env = (body: string): string => `<s:Envelope xmlns:s="x"><s:Body>${body}</s:Body></s:Envelope>`
  for (const doc of ['<x/>', '<s:Envelope xmlns:s="x"/>', env('<u:OtherResponse/>'), env('<s:Fault><detail><UPnPError><errorCode>x</errorCode></UPnPError></detail></s:Fault>'), env('<s:Fault/>')]) {
    assert.throws(() => parseSoapResponse(doc, 'AddPortMapping'), { name: 'InvalidMessageError' }, doc)
  }
  assert.throws(() => parseSoapResponse(env('<u:AddPortMappingResponse>' + 'x'.repeat(20000) + '</u:AddPortMappingResponse>'), 'AddPortMapping'), { name: 'MessageTooLargeError' })
})
