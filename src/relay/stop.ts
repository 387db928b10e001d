/**
 * The target's side of the stop protocol (relay/circuit-v2.md "Stop Protocol"): the relay
 * opens `/libp2p/circuit/relay/0.2.0/stop` over our connection to it and sends CONNECT with the
 * initiator's peer id and the circuit's limits. `readStopConnect` reads and checks that request
 * (a wrong type or a missing/invalid peer is answered with UNEXPECTED_MESSAGE or
 * MALFORMED_MESSAGE and thrown as RelayStatusError); `answerStop` sends our STATUS. After OK
 * the stream carries the relayed bytes.
 */
import type { AbortOptions } from '../interface/common.ts'
import type { PeerId } from '../interface/peer-id.ts'
import type { Stream } from '../interface/stream.ts'
import { peerIdFromBytes } from '../peer/peer-id.ts'
import { UnexpectedEOFError } from '../util/errors.ts'
import { StreamReader, writeLP } from '../util/stream-reader.ts'
import { RelayStatusError } from './errors.ts'
import { decodeStopMessage, encodeStopMessage, MAX_RELAY_MESSAGE_SIZE, RelayStatus, StopType } from './messages.ts'
import type { RelayLimit, StopMessage } from './messages.ts'

export interface StopRequest {
  /** Who is connecting to us through the relay. */
  initiator: PeerId
  limit?: RelayLimit
}

export async function readStopConnect (stream: Stream, options: AbortOptions = {}): Promise<StopRequest> {
  const reader = new StreamReader(stream)
  const frame = await reader.readLP({ maxLength: MAX_RELAY_MESSAGE_SIZE, signal: options.signal })
  reader.release()
  if (frame === null) throw new UnexpectedEOFError('the relay closed the stop stream without a request')
  let message: StopMessage
  try {
    message = decodeStopMessage(frame)
  } catch (err) {
    await answerStop(stream, RelayStatus.MALFORMED_MESSAGE, options)
    throw err
  }
  if (message.type !== StopType.CONNECT) {
    await answerStop(stream, RelayStatus.UNEXPECTED_MESSAGE, options)
    throw RelayStatusError.of(RelayStatus.UNEXPECTED_MESSAGE, `stop message of type ${message.type} where CONNECT was expected`)
  }
  let initiator: PeerId
  try {
    if (message.peer === undefined) throw new Error('no peer')
    initiator = peerIdFromBytes(message.peer.id)
  } catch {
    await answerStop(stream, RelayStatus.MALFORMED_MESSAGE, options)
    throw RelayStatusError.of(RelayStatus.MALFORMED_MESSAGE, 'stop CONNECT without a valid initiator peer id')
  }
  return { initiator, limit: message.limit }
}

export async function answerStop (stream: Stream, status: number, options: AbortOptions = {}): Promise<void> {
  await writeLP(stream, encodeStopMessage({ type: StopType.STATUS, status }), options)
}
