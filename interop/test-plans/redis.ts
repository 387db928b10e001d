/**
 * The few Redis commands the test-plans contracts use (RPUSH, BLPOP, DEL, PING), over RESP2 on
 * one TCP connection: the listener publishes its address with RPUSH, the dialer waits for it
 * with BLPOP, the runner clears the key with DEL between cells.
 *
 * Why not an npm Redis client: these four commands need ~100 lines, and the test apps must stay
 * as small as the ones test-plans ships. Replies are parsed with bounds (line length, bulk
 * size, array length) and every command has a deadline.
 */
import { connect, type Socket } from 'node:net'

/** Longest status/error/integer line or bulk string we accept: addresses are short. */
const MAX_REPLY_BYTES = 64 * 1024
const MAX_ARRAY_LENGTH = 16

export type RedisReply = string | number | null | RedisReply[]

export class RedisReplyError extends Error {
  override readonly name = 'RedisReplyError'
  readonly code = 'ERR_REDIS_REPLY'
}

export class RedisProtocolError extends Error {
  override readonly name = 'RedisProtocolError'
  readonly code = 'ERR_REDIS_PROTOCOL'
}

export class RedisTimeoutError extends Error {
  override readonly name = 'RedisTimeoutError'
  readonly code = 'ERR_REDIS_TIMEOUT'
}

/** `host:port` as test-plans passes it in `redis_addr` (default port 6379). */
export function parseRedisAddr (text: string): { host: string, port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d{1,5}))?$/.exec(text)
  if (match === null) throw new TypeError(`redis_addr must be HOST[:PORT], got '${text}'`)
  const port = match[3] === undefined ? 6379 : Number(match[3])
  if (port === 0 || port > 65535) throw new TypeError(`redis_addr port out of range: '${text}'`)
  return { host: match[1] ?? match[2], port }
}

export class RedisClient {
  private readonly socket: Socket
  private buffered: Buffer = Buffer.alloc(0)
  private waiting: (() => void) | undefined
  private failure: Error | undefined

  private constructor (socket: Socket) {
    this.socket = socket
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk])
      this.wake()
    })
    socket.on('error', (err) => { this.failure ??= err; this.wake() })
    socket.on('close', () => { this.failure ??= new RedisProtocolError('connection closed'); this.wake() })
  }

  /** Connects to `redis_addr`, failing after `timeoutMs`. */
  static async connect (addr: string, timeoutMs = 10_000): Promise<RedisClient> {
    const { host, port } = parseRedisAddr(addr)
    const socket = connect({ host, port, noDelay: true })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { socket.destroy(); reject(new RedisTimeoutError(`no connection to redis at ${addr} within ${timeoutMs} ms`)) }, timeoutMs)
      socket.once('connect', () => { clearTimeout(timer); resolve() })
      socket.once('error', (err) => { clearTimeout(timer); reject(err) })
    })
    return new RedisClient(socket)
  }

  /** Sends one command and reads its reply; Redis errors reject with RedisReplyError. */
  async command (args: string[], timeoutMs: number): Promise<RedisReply> {
    const parts = [`*${args.length}\r\n`]
    for (const arg of args) parts.push(`$${Buffer.byteLength(arg)}\r\n${arg}\r\n`)
    this.socket.write(parts.join(''))
    const deadline = Date.now() + timeoutMs
    while (true) {
      if (this.failure !== undefined) throw this.failure
      const parsed = parseReply(this.buffered, 0)
      if (parsed !== undefined) {
        this.buffered = this.buffered.subarray(parsed.end)
        if (parsed.value instanceof RedisReplyError) throw parsed.value
        return parsed.value as RedisReply
      }
      const left = deadline - Date.now()
      if (left <= 0) throw new RedisTimeoutError(`redis ${args[0]} got no reply within ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiting = () => { clearTimeout(timer); resolve() }
      })
      this.waiting = undefined
    }
  }

  close (): void {
    this.socket.destroy()
  }

  private wake (): void {
    this.waiting?.()
  }
}

interface Parsed { value: RedisReply | RedisReplyError, end: number }

/** Parses one RESP2 reply at `at`; undefined if more bytes are needed. */
function parseReply (buf: Buffer, at: number): Parsed | undefined {
  const lineEnd = buf.indexOf('\r\n', at)
  if (lineEnd === -1) {
    if (buf.length - at > MAX_REPLY_BYTES) throw new RedisProtocolError('reply line too long')
    return undefined
  }
  if (lineEnd - at > MAX_REPLY_BYTES) throw new RedisProtocolError('reply line too long')
  const type = String.fromCharCode(buf[at])
  const line = buf.toString('utf8', at + 1, lineEnd)
  const next = lineEnd + 2
  switch (type) {
    case '+': return { value: line, end: next }
    case '-': return { value: new RedisReplyError(line), end: next }
    case ':': return { value: toInteger(line), end: next }
    case '$': {
      const length = toInteger(line)
      if (length === -1) return { value: null, end: next }
      if (length < 0 || length > MAX_REPLY_BYTES) throw new RedisProtocolError(`bulk string of ${length} bytes`)
      if (buf.length < next + length + 2) return undefined
      return { value: buf.toString('utf8', next, next + length), end: next + length + 2 }
    }
    case '*': {
      const count = toInteger(line)
      if (count === -1) return { value: null, end: next }
      if (count < 0 || count > MAX_ARRAY_LENGTH) throw new RedisProtocolError(`array of ${count} items`)
      const items: RedisReply[] = []
      let end = next
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, end)
        if (item === undefined) return undefined
        if (item.value instanceof RedisReplyError) throw item.value
        items.push(item.value)
        end = item.end
      }
      return { value: items, end }
    }
    default: throw new RedisProtocolError(`unknown reply type ${JSON.stringify(type)}`)
  }
}

function toInteger (text: string): number {
  if (!/^-?\d{1,15}$/.test(text)) throw new RedisProtocolError(`bad integer ${JSON.stringify(text)}`)
  return Number(text)
}
