/**
 * NAT-PMP client (RFC 6886) over one UDP socket connected to the gateway's port 5351, so only
 * the gateway's datagrams reach us. Requests go one at a time (replies carry no id; the opcode
 * and, for mappings, the internal port tell them apart) and are sent again at 250 ms, doubling
 * (section 3.1), until a reply or the caller's signal. A reply that does not decode fails the
 * request with a typed error; a non-zero result is NatPmpResultError. Node-only (node:dgram).
 */
import { createSocket, type Socket } from 'node:dgram'
import { InvalidParametersError } from '../../util/errors.ts'
import { parseIp } from '../../util/ip.ts'
import { unrefTimeout } from '../../util/timers.ts'
import { NatPmpResultError } from '../errors.ts'
import type { GatewayClient, Mapping, MappingRequest } from '../mapping-client.ts'
import { decodeReply, encodeExternalAddressRequest, encodeMappingRequest, NAT_PMP_PORT, NAT_PMP_RESULT, OP_EXTERNAL_ADDRESS, OP_MAP_TCP, OP_MAP_UDP, type NatPmpReply } from './messages.ts'

const FIRST_RETRY_MS = 250
/** Sends per request at most (250 ms .. 4 s apart, ~8 s in all); the caller's signal may end it sooner. */
const MAX_SENDS = 6

export interface NatPmpClientOptions {
  signal: AbortSignal
  /** The gateway's NAT-PMP port (5351; tests use another). */
  port?: number
}

/** Connects a UDP socket to `gateway` (an IPv4 literal on our network). */
export async function connectNatPmp (gateway: string, options: NatPmpClientOptions): Promise<NatPmpClient> {
  if (parseIp(gateway)?.length !== 4) throw new InvalidParametersError(`NAT-PMP needs an IPv4 gateway, not ${gateway}`)
  options.signal.throwIfAborted()
  const socket = createSocket({ type: 'udp4' })
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.connect(options.port ?? NAT_PMP_PORT, gateway, () => { socket.off('error', reject); resolve() })
    })
  } catch (err) {
    socket.close()
    throw err
  }
  return new NatPmpClient(socket, gateway)
}

interface Pending {
  /** The request's opcode: a refusal carrying it answers this request. */
  readonly op: number
  readonly accept: (reply: NatPmpReply) => boolean
  readonly resolve: (reply: NatPmpReply) => void
  readonly reject: (err: unknown) => void
}

export class NatPmpClient implements GatewayClient {
  readonly kind = 'nat-pmp' as const
  readonly gateway: string
  readonly localAddress: string
  readonly #socket: Socket
  #queue: Promise<unknown> = Promise.resolve()
  #pending: Pending | undefined
  #closed = false

  constructor (socket: Socket, gateway: string) {
    this.#socket = socket
    this.gateway = gateway
    this.localAddress = socket.address().address
    socket.on('message', (datagram: Buffer) => { this.#onDatagram(datagram) })
    // ICMP port unreachable shows up as an error on a connected socket: the request keeps
    // retrying until its signal ends it, as the RFC's retransmission expects.
    socket.on('error', () => {})
  }

  async externalAddress (options: { signal: AbortSignal }): Promise<string> {
    const reply = await this.#request(encodeExternalAddressRequest(), r => r.op === OP_EXTERNAL_ADDRESS, options.signal)
    return reply.op === OP_EXTERNAL_ADDRESS ? reply.externalIp : ''
  }

  async map (request: MappingRequest, options: { signal: AbortSignal }): Promise<Mapping> {
    const op = request.protocol === 'udp' ? OP_MAP_UDP : OP_MAP_TCP
    const reply = await this.#request(encodeMappingRequest(request.protocol, request.internalPort, request.externalPort, request.lifetimeSeconds),
      r => r.op === op && r.internalPort === request.internalPort, options.signal)
    if (reply.op === OP_EXTERNAL_ADDRESS) throw new Error('unreachable')
    return { protocol: request.protocol, internalPort: request.internalPort, externalPort: reply.externalPort, lifetimeSeconds: reply.lifetimeSeconds }
  }

  /** Section 3.4: lifetime 0 and external port 0 remove the mapping of the internal port. */
  async unmap (mapping: Mapping, options: { signal: AbortSignal }): Promise<void> {
    const op = mapping.protocol === 'udp' ? OP_MAP_UDP : OP_MAP_TCP
    await this.#request(encodeMappingRequest(mapping.protocol, mapping.internalPort, 0, 0), r => r.op === op && r.internalPort === mapping.internalPort, options.signal)
  }

  close (): void {
    if (this.#closed) return
    this.#closed = true
    this.#pending?.reject(new InvalidParametersError('the NAT-PMP client is closed'))
    this.#socket.close()
  }

  #onDatagram (datagram: Buffer): void {
    const pending = this.#pending
    if (pending === undefined) return
    let reply: NatPmpReply
    try {
      reply = decodeReply(datagram)
    } catch (err) {
      pending.reject(err)
      return
    }
    // Result codes come with every opcode: a refusal of this request is its answer.
    if (reply.resultCode !== NAT_PMP_RESULT.success && reply.op === pending.op) {
      pending.reject(new NatPmpResultError(`NAT-PMP request refused with result code ${reply.resultCode}`, reply.resultCode))
      return
    }
    if (pending.accept(reply)) pending.resolve(reply)
  }

  async #request (bytes: Uint8Array, accept: (reply: NatPmpReply) => boolean, signal: AbortSignal): Promise<NatPmpReply> {
    const run = this.#queue.then(async () => await this.#exchange(bytes, accept, signal))
    this.#queue = run.catch(() => {})
    return await run
  }

  async #exchange (bytes: Uint8Array, accept: (reply: NatPmpReply) => boolean, signal: AbortSignal): Promise<NatPmpReply> {
    signal.throwIfAborted()
    if (this.#closed) throw new InvalidParametersError('the NAT-PMP client is closed')
    let timer: ReturnType<typeof unrefTimeout> | undefined
    let onAbort: (() => void) | undefined
    try {
      return await new Promise<NatPmpReply>((resolve, reject) => {
        this.#pending = { op: bytes[1], accept, resolve, reject }
        onAbort = () => { reject(signal.reason) }
        signal.addEventListener('abort', onAbort, { once: true })
        let sends = 0
        const send = (): void => {
          if (sends++ >= MAX_SENDS) return
          this.#socket.send(bytes)
          timer = unrefTimeout(send, FIRST_RETRY_MS << (sends - 1))
        }
        send()
      })
    } finally {
      this.#pending = undefined
      if (timer !== undefined) clearTimeout(timer)
      if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
    }
  }
}

