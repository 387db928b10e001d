/**
 * SOAP 1.1 for UPnP control (UPnP Device Architecture 1.1, section 3.2): the request envelope
 * of an action and a bounded reader of the answer, which is either `<ActionResponse>` with
 * named out-arguments or a Fault whose `<UPnPError>` carries the device's error code (thrown
 * as UPnPActionError: 718 is ConflictInMappingEntry). Browser-safe.
 */
import { InvalidMessageError } from '../../util/errors.ts'
import { UPnPActionError } from '../errors.ts'
import { childNamed, childText, descendantsNamed, parseXml, type XmlLimits } from './xml.ts'

/** SOAP answers are small; 16 KiB leaves room for chatty devices and nothing for abuse. */
export const SOAP_XML_LIMITS: XmlLimits = { maxBytes: 16 * 1024, maxDepth: 10, maxElements: 200 }

/** The SOAPAction header value for `action` of `serviceType`. */
export function soapActionHeader (serviceType: string, action: string): string {
  return `"${serviceType}#${action}"`
}

/** The request envelope; argument order matters to some devices, so it is the given order. */
export function buildSoapRequest (serviceType: string, action: string, args: ReadonlyArray<readonly [string, string | number]>): string {
  let body = ''
  for (const [name, value] of args) body += `<${name}>${escapeXml(String(value))}</${name}>`
  return '<?xml version="1.0"?>\r\n' +
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">' +
    `<s:Body><u:${action} xmlns:u="${escapeXml(serviceType)}">${body}</u:${action}></s:Body></s:Envelope>`
}

function escapeXml (text: string): string {
  return text.replace(/[<>&"']/g, c => c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : c === '"' ? '&quot;' : '&apos;')
}

/**
 * The out-arguments of `action`'s answer by name. Throws UPnPActionError for a UPnP fault,
 * InvalidMessageError for anything else that is not the expected answer.
 */
export function parseSoapResponse (xml: string, action: string): Map<string, string> {
  const envelope = parseXml(xml, SOAP_XML_LIMITS)
  if (envelope.name !== 'Envelope') throw new InvalidMessageError(`SOAP answer root is <${envelope.name}>, not <Envelope>`)
  const body = childNamed(envelope, 'Body')
  if (body === undefined) throw new InvalidMessageError('SOAP answer has no Body')
  const fault = childNamed(body, 'Fault')
  if (fault !== undefined) {
    const upnpError = descendantsNamed(fault, 'UPnPError')[0]
    const codeText = upnpError !== undefined ? childText(upnpError, 'errorCode') : undefined
    const code = codeText !== undefined && /^\d{1,4}$/.test(codeText) ? Number(codeText) : NaN
    if (!Number.isInteger(code)) throw new InvalidMessageError('SOAP fault without a UPnP error code')
    const description = (upnpError !== undefined ? childText(upnpError, 'errorDescription') : undefined) ?? ''
    throw new UPnPActionError(`${action} failed with UPnP error ${code}${description !== '' ? ` (${description.slice(0, 100)})` : ''}`, code)
  }
  const response = childNamed(body, `${action}Response`)
  if (response === undefined) throw new InvalidMessageError(`SOAP answer has no ${action}Response`)
  const out = new Map<string, string>()
  for (const arg of response.children) out.set(arg.name, arg.text.trim())
  return out
}
