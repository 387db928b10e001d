/**
 * Browser stand-in of the `#http-node-adapter` import: Node-style request listeners need
 * Node's streams, so outside Node.js `fromNodeListener` throws. Fetch-style handlers work
 * everywhere.
 */
import { HttpNotImplementedError } from './errors.ts'
import type { FetchHandler } from './server.ts'

export type NodeStyleListener = (req: never, res: never) => void

export function fromNodeListener (_listener: NodeStyleListener): FetchHandler {
  throw new HttpNotImplementedError('Node-style HTTP handlers need Node.js; use a fetch-style (Request) => Response handler')
}
