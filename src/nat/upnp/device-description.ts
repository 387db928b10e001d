/**
 * Reads an IGD's device description (UPnP Device Architecture 1.1, section 2.3) for the one
 * thing port mapping needs: the control URL of a WANIPConnection (v2 preferred, then v1) or
 * WANPPPConnection service. The control URL must stay on the host that served the
 * description, so a hostile description cannot send our SOAP requests anywhere else.
 * Browser-safe.
 */
import { InvalidMessageError } from '../../util/errors.ts'
import { UntrustedGatewayError } from '../errors.ts'
import { childText, descendantsNamed, parseXml, type XmlLimits, DEFAULT_XML_LIMITS } from './xml.ts'

export const WAN_IP_CONNECTION_V2 = 'urn:schemas-upnp-org:service:WANIPConnection:2'
export const WAN_IP_CONNECTION_V1 = 'urn:schemas-upnp-org:service:WANIPConnection:1'
export const WAN_PPP_CONNECTION_V1 = 'urn:schemas-upnp-org:service:WANPPPConnection:1'

/** In order of preference. */
const WAN_SERVICE_TYPES = [WAN_IP_CONNECTION_V2, WAN_IP_CONNECTION_V1, WAN_PPP_CONNECTION_V1]

export interface WanConnectionService {
  /** The exact serviceType: the SOAP namespace and SOAPAction prefix. */
  readonly serviceType: string
  readonly controlUrl: URL
}

/**
 * The best WAN connection service of the description at `location`. Throws
 * InvalidMessageError for a malformed description or one without such a service, and
 * UntrustedGatewayError for a control URL on another host or scheme.
 */
export function parseDeviceDescription (xml: string, location: URL, limits: XmlLimits = DEFAULT_XML_LIMITS): WanConnectionService {
  const root = parseXml(xml, limits)
  if (root.name !== 'root') throw new InvalidMessageError(`device description root is <${root.name}>, not <root>`)
  const urlBase = childText(root, 'URLBase')
  const services = descendantsNamed(root, 'service')
  for (const wanted of WAN_SERVICE_TYPES) {
    const service = services.find(s => childText(s, 'serviceType') === wanted)
    if (service === undefined) continue
    const control = childText(service, 'controlURL')
    if (control === undefined || control === '') throw new InvalidMessageError(`${wanted} has no controlURL`)
    let controlUrl: URL
    try {
      controlUrl = new URL(control, urlBase !== undefined && urlBase !== '' ? new URL(urlBase, location) : location)
    } catch (err) {
      throw new InvalidMessageError('the controlURL is not a URL', { cause: err })
    }
    if (controlUrl.protocol !== 'http:' || controlUrl.hostname !== location.hostname) {
      throw new UntrustedGatewayError(`the controlURL ${controlUrl.href} leaves the gateway ${location.hostname}`)
    }
    return { serviceType: wanted, controlUrl }
  }
  throw new InvalidMessageError('the device offers no WANIPConnection or WANPPPConnection service')
}
