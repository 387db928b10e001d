/**
 * Scripted port-mapping gateways on 127.0.0.1 for unit tests of the UPnP and NAT-PMP clients
 * and the port-mapping service: an IGD (SSDP responder + HTTP description and SOAP control)
 * and a NAT-PMP responder. The real gateway, miniupnpd, runs in the NAT lab.
 */
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http'
import { createSocket, type Socket } from 'node:dgram'
import type { AddressInfo } from 'node:net'
import { WAN_IP_CONNECTION_V1 } from '../../src/nat/upnp/device-description.ts'

export const DESCRIPTION = `<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device><serviceList>
<service><serviceType>${WAN_IP_CONNECTION_V1}</serviceType><controlURL>/ctl</controlURL></service></serviceList></device></root>`

export const envelope = (body: string): string => `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>${body}</s:Body></s:Envelope>`
export const fault = (code: number): string => envelope(`<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>${code}</errorCode><errorDescription>E${code}</errorDescription></UPnPError></detail></s:Fault>`)

export interface FakeIgd {
  http: Server
  ssdp: Socket
  port: number
  ssdpPort: number
  actions: Array<{ action: string, body: string }>
  close(): Promise<void>
}

/** An IGD on 127.0.0.1: `onAction` answers SOAP actions (status, body). */
export async function fakeIgd (onAction: (action: string, body: string) => [number, string], options: { location?: (port: number) => string, description?: string } = {}): Promise<FakeIgd> {
  const actions: FakeIgd['actions'] = []
  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    req.on('data', (c) => { body += String(c) })
    req.on('end', () => {
      if (req.method === 'GET') { res.writeHead(200, { 'Content-Type': 'text/xml' }).end(options.description ?? DESCRIPTION); return }
      const action = /#(\w+)"/.exec(String(req.headers.soapaction))?.[1] ?? ''
      actions.push({ action, body })
      const [status, answer] = onAction(action, body)
      res.writeHead(status, { 'Content-Type': 'text/xml' }).end(answer)
    })
  })
  await new Promise<void>(resolve => { http.listen(0, '127.0.0.1', resolve) })
  const port = (http.address() as AddressInfo).port
  const ssdp = createSocket('udp4')
  ssdp.on('message', (msg, from) => {
    if (!String(msg).startsWith('M-SEARCH')) return
    const location = options.location?.(port) ?? `http://127.0.0.1:${port}/rootDesc.xml`
    ssdp.send(`HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nLOCATION: ${location}\r\n\r\n`, from.port, from.address)
  })
  await new Promise<void>(resolve => { ssdp.bind(0, '127.0.0.1', resolve) })
  return {
    http, ssdp, port, ssdpPort: (ssdp.address()).port, actions,
    async close () { http.closeAllConnections(); await new Promise(resolve => { http.close(resolve) }); ssdp.close() }
  }
}


/** A NAT-PMP gateway on 127.0.0.1 answering with `reply(request)` (undefined: stays silent). */
export async function fakePmp (reply: (request: Buffer) => Uint8Array | undefined): Promise<{ port: number, requests: Buffer[], close(): void }> {
  const socket = createSocket('udp4')
  const requests: Buffer[] = []
  socket.on('message', (msg, from) => {
    requests.push(msg)
    const answer = reply(msg)
    if (answer !== undefined) socket.send(answer, from.port, from.address)
  })
  await new Promise<void>(resolve => { socket.bind(0, '127.0.0.1', resolve) })
  return { port: socket.address().port, requests, close: () => { socket.close() } }
}

