/**
 * QUIC transport parameters (RFC 9000 section 18): what each endpoint announces in the TLS
 * handshake (extension 0x39, carried opaque by the crypto layer).
 *
 * Decoding is bounded (the TLS extension is), rejects duplicates and out-of-range values with
 * TRANSPORT_PARAMETER_ERROR, skips unknown (e.g. greased) ids, and fills RFC 9000's defaults.
 */
import { QuicDecodeError, QuicTransportErrorCode } from './errors.ts'
import { QuicReader, varintLength, writeVarint } from './varint.ts'
import type { QuicConfig } from './config.ts'
import { ACTIVE_CONNECTION_ID_LIMIT } from './remote-cids.ts'

export interface TransportParameters {
  originalDestinationConnectionId?: Uint8Array
  /** ms; 0 = no idle timeout. */
  maxIdleTimeout: number
  statelessResetToken?: Uint8Array
  maxUdpPayloadSize: number
  initialMaxData: number
  initialMaxStreamDataBidiLocal: number
  initialMaxStreamDataBidiRemote: number
  initialMaxStreamDataUni: number
  initialMaxStreamsBidi: number
  initialMaxStreamsUni: number
  ackDelayExponent: number
  /** ms */
  maxAckDelay: number
  disableActiveMigration: boolean
  activeConnectionIdLimit: number
  initialSourceConnectionId?: Uint8Array
  retrySourceConnectionId?: Uint8Array
  /** RFC 9221: the largest DATAGRAM frame the peer accepts; 0 = none. */
  maxDatagramFrameSize: number
  /** draft-ietf-quic-reliable-stream-reset: RESET_STREAM_AT frames may be sent. */
  resetStreamAt?: boolean
}

/** reset_stream_at's transport parameter id (draft-ietf-quic-reliable-stream-reset-06). */
const RESET_STREAM_AT_PARAMETER = 0x17f7586d2cb571

export const DEFAULT_TRANSPORT_PARAMETERS: Readonly<TransportParameters> = {
  maxIdleTimeout: 0,
  maxUdpPayloadSize: 65527,
  initialMaxData: 0,
  initialMaxStreamDataBidiLocal: 0,
  initialMaxStreamDataBidiRemote: 0,
  initialMaxStreamDataUni: 0,
  initialMaxStreamsBidi: 0,
  initialMaxStreamsUni: 0,
  ackDelayExponent: 3,
  maxAckDelay: 25,
  disableActiveMigration: false,
  activeConnectionIdLimit: 2,
  maxDatagramFrameSize: 0
}

const Id = {
  originalDestinationConnectionId: 0x00,
  maxIdleTimeout: 0x01,
  statelessResetToken: 0x02,
  maxUdpPayloadSize: 0x03,
  initialMaxData: 0x04,
  initialMaxStreamDataBidiLocal: 0x05,
  initialMaxStreamDataBidiRemote: 0x06,
  initialMaxStreamDataUni: 0x07,
  initialMaxStreamsBidi: 0x08,
  initialMaxStreamsUni: 0x09,
  ackDelayExponent: 0x0a,
  maxAckDelay: 0x0b,
  disableActiveMigration: 0x0c,
  preferredAddress: 0x0d,
  activeConnectionIdLimit: 0x0e,
  initialSourceConnectionId: 0x0f,
  retrySourceConnectionId: 0x10,
  maxDatagramFrameSize: 0x20
} as const

const INTEGER_PARAMS: Readonly<Array<[number, keyof TransportParameters]>> = [
  [Id.maxIdleTimeout, 'maxIdleTimeout'],
  [Id.maxUdpPayloadSize, 'maxUdpPayloadSize'],
  [Id.initialMaxData, 'initialMaxData'],
  [Id.initialMaxStreamDataBidiLocal, 'initialMaxStreamDataBidiLocal'],
  [Id.initialMaxStreamDataBidiRemote, 'initialMaxStreamDataBidiRemote'],
  [Id.initialMaxStreamDataUni, 'initialMaxStreamDataUni'],
  [Id.initialMaxStreamsBidi, 'initialMaxStreamsBidi'],
  [Id.initialMaxStreamsUni, 'initialMaxStreamsUni'],
  [Id.ackDelayExponent, 'ackDelayExponent'],
  [Id.maxAckDelay, 'maxAckDelay'],
  [Id.activeConnectionIdLimit, 'activeConnectionIdLimit'],
  [Id.maxDatagramFrameSize, 'maxDatagramFrameSize']
]
const INTEGER_BY_ID = new Map(INTEGER_PARAMS)
const BYTES_BY_ID = new Map<number, keyof TransportParameters>([
  [Id.originalDestinationConnectionId, 'originalDestinationConnectionId'],
  [Id.statelessResetToken, 'statelessResetToken'],
  [Id.initialSourceConnectionId, 'initialSourceConnectionId'],
  [Id.retrySourceConnectionId, 'retrySourceConnectionId']
])

function paramError (message: string): QuicDecodeError {
  return new QuicDecodeError(message, QuicTransportErrorCode.TRANSPORT_PARAMETER_ERROR)
}

export function encodeTransportParameters (params: Partial<TransportParameters>): Uint8Array {
  const out = new Uint8Array(512)
  let o = 0
  const put = (id: number, value: Uint8Array): void => {
    o = writeVarint(out, o, id)
    o = writeVarint(out, o, value.length)
    out.set(value, o)
    o += value.length
  }
  for (const [id, key] of BYTES_BY_ID) {
    const value = params[key] as Uint8Array | undefined
    if (value !== undefined) put(id, value)
  }
  for (const [id, key] of INTEGER_PARAMS) {
    const value = params[key] as number | undefined
    if (value === undefined || value === DEFAULT_TRANSPORT_PARAMETERS[key]) continue
    const bytes = new Uint8Array(varintLength(value))
    writeVarint(bytes, 0, value)
    put(id, bytes)
  }
  if (params.disableActiveMigration === true) put(Id.disableActiveMigration, new Uint8Array(0))
  if (params.resetStreamAt === true) put(RESET_STREAM_AT_PARAMETER, new Uint8Array(0))
  return out.slice(0, o)
}

/** Decodes the peer's parameters. `fromServer` enables the server-only checks. */
export function decodeTransportParameters (bytes: Uint8Array, fromServer: boolean): TransportParameters {
  try {
    return decodeParameters(bytes, fromServer)
  } catch (err) {
    // A truncated varint inside the extension is a parameter error, not a frame error.
    if (err instanceof QuicDecodeError && err.transportCode !== QuicTransportErrorCode.TRANSPORT_PARAMETER_ERROR) throw paramError(err.message)
    throw err
  }
}

function decodeParameters (bytes: Uint8Array, fromServer: boolean): TransportParameters {
  const params: TransportParameters = { ...DEFAULT_TRANSPORT_PARAMETERS }
  const seen = new Set<number>()
  const r = new QuicReader(bytes)
  while (r.remaining > 0) {
    const id = r.varint()
    const length = r.varint()
    const value = new QuicReader(bytes, r.pos, r.pos + length)
    r.skip(length)
    if (id > 0x20 && (id - 27) % 31 === 0) continue // reserved (greased) ids, RFC 9000 18.1
    if (seen.has(id)) throw paramError(`transport parameter 0x${id.toString(16)} appears twice`)
    seen.add(id)
    const integerKey = INTEGER_BY_ID.get(id)
    if (integerKey !== undefined) {
      const v = value.varint()
      if (value.remaining !== 0) throw paramError(`transport parameter 0x${id.toString(16)} has trailing bytes`)
      ;(params as unknown as Record<string, number>)[integerKey] = v
      continue
    }
    const bytesKey = BYTES_BY_ID.get(id)
    if (bytesKey !== undefined) {
      if (!fromServer && id !== Id.initialSourceConnectionId) throw paramError(`a client may not send transport parameter 0x${id.toString(16)}`)
      if (id === Id.statelessResetToken ? length !== 16 : length > 20) throw paramError(`transport parameter 0x${id.toString(16)} has a bad length ${length}`)
      ;(params as unknown as Record<string, Uint8Array>)[bytesKey] = bytes.slice(value.pos, value.end)
      continue
    }
    if (id === Id.disableActiveMigration) {
      if (length !== 0) throw paramError('disable_active_migration carries a value')
      params.disableActiveMigration = true
      continue
    }
    if (id === Id.preferredAddress && !fromServer) throw paramError('a client may not send preferred_address')
    // Unknown parameters (and preferred_address, which we do not use) are ignored.
  }
  if (params.maxUdpPayloadSize < 1200) throw paramError(`max_udp_payload_size ${params.maxUdpPayloadSize} < 1200`)
  if (params.ackDelayExponent > 20) throw paramError(`ack_delay_exponent ${params.ackDelayExponent} > 20`)
  if (params.maxAckDelay >= 2 ** 14) throw paramError(`max_ack_delay ${params.maxAckDelay} >= 2^14`)
  if (params.activeConnectionIdLimit < 2) throw paramError(`active_connection_id_limit ${params.activeConnectionIdLimit} < 2`)
  if (params.initialMaxStreamsBidi > 2 ** 60 || params.initialMaxStreamsUni > 2 ** 60) throw paramError('initial_max_streams above 2^60')
  if (params.initialSourceConnectionId === undefined) throw paramError('initial_source_connection_id is missing')
  if (fromServer && params.originalDestinationConnectionId === undefined) throw paramError('original_destination_connection_id is missing')
  return params
}

/**
 * RFC 9000 7.3: the connection ids in the remote's parameters must be the ones seen on the
 * wire. A client passes `original` (its first destination id) and `retrySource` (after a
 * Retry); both sides pass `initialSource`, the source id of the remote's first Initial.
 */
export function checkConnectionIdParameters (params: TransportParameters, expected: { original?: Uint8Array, initialSource: Uint8Array | undefined, retrySource?: Uint8Array }): void {
  const same = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean => a !== undefined && b !== undefined && a.length === b.length && a.every((v, i) => v === b[i])
  if (!same(params.initialSourceConnectionId, expected.initialSource)) throw paramError('initial_source_connection_id does not match')
  if (expected.original === undefined) return
  if (!same(params.originalDestinationConnectionId, expected.original)) throw paramError('original_destination_connection_id does not match')
  if (expected.retrySource !== undefined ? !same(params.retrySourceConnectionId, expected.retrySource) : params.retrySourceConnectionId !== undefined) throw paramError('retry_source_connection_id does not match')
}

/**
 * Our parameters from the connection's limits: no migration; unidirectional streams and
 * datagrams only where the config allows them (HTTP/3).
 */
export function encodeLocalParameters (c: QuicConfig, role: 'client' | 'server', ids: { initialSource: Uint8Array, originalDestination: Uint8Array, retrySource?: Uint8Array, statelessResetToken?: Uint8Array }): Uint8Array {
  const params: Partial<TransportParameters> = {
    maxIdleTimeout: c.maxIdleTimeout,
    maxUdpPayloadSize: c.maxUdpPayloadSize,
    initialMaxData: c.connectionWindow,
    initialMaxStreamDataBidiLocal: c.streamWindow,
    initialMaxStreamDataBidiRemote: c.streamWindow,
    initialMaxStreamDataUni: c.maxIncomingUniStreams > 0 ? c.streamWindow : 0,
    initialMaxStreamsBidi: c.maxIncomingStreams,
    initialMaxStreamsUni: c.maxIncomingUniStreams,
    maxDatagramFrameSize: c.maxDatagramFrameSize,
    resetStreamAt: c.announceResetStreamAt,
    activeConnectionIdLimit: ACTIVE_CONNECTION_ID_LIMIT,
    disableActiveMigration: true,
    initialSourceConnectionId: ids.initialSource
  }
  if (role === 'server') {
    params.originalDestinationConnectionId = ids.originalDestination
    params.statelessResetToken = ids.statelessResetToken
    if (ids.retrySource !== undefined) params.retrySourceConnectionId = ids.retrySource
  }
  return encodeTransportParameters(params)
}
