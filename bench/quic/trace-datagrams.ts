/**
 * A preload for the bench peers that records every UDP datagram the process sends or receives
 * (time, direction, size, first byte) and writes them to `$QUIC_TRACE_DIR/trace-<pid>.json`
 * when the process exits. Both peers run on one machine, so their times (performance.timeOrigin
 * + performance.now(), in ms) line up: bench/quic/dial-timeline.ts merges the two files into
 * each dial's datagram sequence, and says where a dial waits (a timer, a round trip) and which
 * side's work lies between two datagrams.
 *
 *   QUIC_TRACE_DIR=/tmp/trace PEER_IMPORT=$PWD/bench/quic/trace-datagrams.ts \
 *     node bench/quic/profile-dial.ts --count 40 --warmup 100
 *   node bench/quic/dial-timeline.ts /tmp/trace
 *
 * It patches node:dgram's Socket.prototype (send, and emit of 'message'): a tool for a trace,
 * never loaded by the library.
 */
import { Socket } from 'node:dgram'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** [time ms, 'S' | 'R', bytes, first byte]. */
export type DatagramEvent = [number, 'S' | 'R', number, number]

const dir = process.env.QUIC_TRACE_DIR
if (dir !== undefined) {
  const events: DatagramEvent[] = []
  const origin = performance.timeOrigin
  const proto = Socket.prototype as unknown as {
    send: (msg: Uint8Array | Uint8Array[], ...rest: unknown[]) => void
    emit: (name: string | symbol, ...args: unknown[]) => boolean
  }
  const send = proto.send
  proto.send = function (this: Socket, msg: Uint8Array | Uint8Array[], ...rest: unknown[]): void {
    let size = 0
    let first = 0
    if (Array.isArray(msg)) {
      for (const part of msg) size += part.length
      first = msg[0]?.[0] ?? 0
    } else {
      size = msg.length
      first = msg[0] ?? 0
    }
    events.push([origin + performance.now(), 'S', size, first])
    send.call(this, msg, ...rest)
  }
  const emit = proto.emit
  proto.emit = function (this: Socket, name: string | symbol, ...args: unknown[]): boolean {
    if (name === 'message') {
      const msg = args[0] as Uint8Array
      events.push([origin + performance.now(), 'R', msg.length, msg[0] ?? 0])
    }
    return emit.call(this, name, ...args)
  }
  process.on('exit', () => {
    writeFileSync(join(dir, `trace-${process.pid}.json`), JSON.stringify({ argv: process.argv.slice(2), events }))
  })
}
