/**
 * Switches a live node:net socket to reading into one caller-supplied buffer (Node-only).
 *
 * Node reads every chunk into a freshly allocated 64 KiB buffer. At gigabits per second that is
 * thousands of external allocations per second, and V8 answers external memory growth with
 * full mark-compact collections: the largest avoidable cost of a bulk transfer. Node's public
 * `onread` option avoids it, but only for sockets the application constructs (not for those
 * a server accepts), and only from the start (a connection here first speaks
 * multistream-select and the Noise handshake through the normal stream path). The socket
 * implementation keeps the same switch as three symbol-keyed fields plus
 * `handle.useUserBuffer()`; this module finds those symbols by name once (on a socket built
 * with `onread`) and flips them on an existing socket. When anything is not where expected
 * (another Node version, a non-libuv handle) `enableUserBuffer` returns false and the caller
 * keeps the normal 'data' path.
 */
import { Socket } from 'node:net'
import { ConnectionClosedError } from '../../util/errors.ts'

interface UserBufferSymbols {
  buffer: symbol
  callback: symbol
  generator: symbol
}

interface ReadingHandle {
  reading?: boolean
  readStart(): number
  useUserBuffer(buffer: Uint8Array): void
}

type SocketFields = Socket & Record<symbol, unknown> & { _handle?: ReadingHandle | null }

let symbols: UserBufferSymbols | null | undefined

function findSymbols (): UserBufferSymbols | null {
  try {
    const probe = new Socket({ onread: { buffer: new Uint8Array(1), callback: () => true } }) as SocketFields
    const byName = new Map<string, symbol>()
    for (const sym of Object.getOwnPropertySymbols(probe)) byName.set(sym.description ?? '', sym)
    const buffer = byName.get('kBuffer')
    const callback = byName.get('kBufferCb')
    const generator = byName.get('kBufferGen')
    probe.destroy()
    if (buffer === undefined || callback === undefined || generator === undefined) return null
    if (!(probe[buffer] instanceof Uint8Array) || typeof probe[callback] !== 'function') return null
    return { buffer, callback, generator }
  } catch {
    return null
  }
}

/**
 * From the next read on, the socket reads into `buffer` and calls `onRead(bytes)` with the
 * filled part instead of emitting 'data'; `onRead` returning false stops reading (resume with
 * `resumeUserBufferReads`). End-of-stream, 'error' and 'close' are emitted as before. The
 * caller must have taken every byte the socket's own readable buffer still held.
 */
export function enableUserBuffer (socket: Socket, buffer: Uint8Array, onRead: (bytes: Uint8Array) => boolean): boolean {
  if (symbols === undefined) symbols = findSymbols()
  if (symbols === null) return false
  const fields = socket as SocketFields
  const handle = fields._handle
  if (handle == null || typeof handle.useUserBuffer !== 'function' || typeof handle.readStart !== 'function') return false
  if (socket.readableLength > 0 || socket.destroyed) return false
  fields[symbols.buffer] = buffer
  fields[symbols.callback] = (nread: number, buf: Uint8Array): boolean => onRead(buf.subarray(0, nread))
  fields[symbols.generator] = null
  handle.useUserBuffer(buffer)
  return true
}

/** Starts reading again after `onRead` returned false. */
export function resumeUserBufferReads (socket: Socket): void {
  const handle = (socket as SocketFields)._handle
  if (handle == null || socket.destroyed || handle.reading === true) return
  handle.reading = true
  const err = handle.readStart()
  if (err < 0) socket.destroy(new ConnectionClosedError(`socket read failed (${err})`))
}
