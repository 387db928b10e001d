/**
 * Gives the `ws` library our word-at-a-time masking (mask.ts) for the frames it receives (a
 * server unmasks every client frame) and the control frames it sends. ws looks for
 * `websocketMask` / `websocketUnmask` on node:http when it loads (a hook meant for runtimes
 * that provide native ones) and otherwise masks byte by byte in JavaScript: in profiles of a
 * WebSocket upload that byte loop was a tenth of the receiving side's time.
 *
 * Imported for its effect, before ws, by every module that imports ws. It sets the hook only
 * where none is set (a runtime's native one wins), and only changes how fast the XOR runs, so
 * any other copy of ws in the process keeps working as before, just faster. Data frames we
 * send do not go through ws (frame-writer.node.ts).
 */
import http from 'node:http'
import { maskInPlace } from './mask.ts'

interface WsMaskHooks {
  websocketMask?: (source: Uint8Array, mask: Uint8Array, output: Uint8Array, offset: number, length: number) => void
  websocketUnmask?: (buffer: Uint8Array, mask: Uint8Array) => void
}

const hooks = http as unknown as WsMaskHooks
if (hooks.websocketMask === undefined && hooks.websocketUnmask === undefined) {
  hooks.websocketMask = (source, mask, output, offset, length) => {
    const target = output.subarray(offset, offset + length)
    target.set(source.subarray(0, length))
    maskInPlace(target, mask)
  }
  hooks.websocketUnmask = (buffer, mask) => { maskInPlace(buffer, mask) }
}
