/**
 * Reservation vouchers (relay/circuit-v2.md "Reservation Vouchers"): the relay signs, in a
 * signed envelope of domain `libp2p-relay-rsvp` and payload type `0x0302`, that it serves
 * `peer` until `expiration` (unix seconds). Vouchers are advisory in the spec, but a client
 * that takes one checks it fully: signed by the relay it reserved with, naming us, unexpired.
 * A forged, misdirected or expired voucher is an InvalidVoucherError.
 */
import type { PrivateKey } from '../interface/keys.ts'
import type { PeerId } from '../interface/peer-id.ts'
import { openAndVerify, sealEnvelope } from '../peer/envelope.ts'
import { peerIdFromPublicKey } from '../peer/peer-id.ts'
import { equalBytes } from '../util/bytes.ts'
import { InvalidMessageError } from '../util/errors.ts'
import { ProtobufReader, ProtobufWriter } from '../util/protobuf.ts'
import { InvalidVoucherError } from './errors.ts'
import { MAX_PEER_ID_LENGTH, MAX_RELAY_MESSAGE_SIZE } from './messages.ts'

export const VOUCHER_DOMAIN = 'libp2p-relay-rsvp'
export const VOUCHER_PAYLOAD_TYPE = Uint8Array.of(0x03, 0x02)

export interface Voucher {
  /** The relay's peer id bytes. */
  relay: Uint8Array
  /** The reserving peer's id bytes. */
  peer: Uint8Array
  /** Unix seconds (UTC). */
  expiration: bigint
}

/** Canonical form: fields in id order, all present (they are `required`). */
export function encodeVoucher (voucher: Voucher): Uint8Array {
  return new ProtobufWriter(96)
    .bytes(1, voucher.relay)
    .bytes(2, voucher.peer)
    .uint64(3, voucher.expiration)
    .finish().slice()
}

export function decodeVoucher (bytes: Uint8Array): Voucher {
  let relay: Uint8Array | undefined
  let peer: Uint8Array | undefined
  let expiration: bigint | undefined
  const r = new ProtobufReader(bytes)
  while (!r.done) {
    const [field, wire] = r.tag()
    if (field === 1) relay = r.bytes(wire, MAX_PEER_ID_LENGTH)
    else if (field === 2) peer = r.bytes(wire, MAX_PEER_ID_LENGTH)
    else if (field === 3) expiration = r.uint64(wire)
    else r.skip(wire)
  }
  if (relay === undefined || peer === undefined || expiration === undefined) {
    throw new InvalidMessageError('voucher lacks a required field (relay, peer, expiration)')
  }
  return { relay, peer, expiration }
}

/** The relay's side: the envelope bytes for Reservation.voucher. */
export async function sealVoucher (relayKey: PrivateKey, voucher: Voucher): Promise<Uint8Array> {
  return await sealEnvelope(relayKey, VOUCHER_DOMAIN, VOUCHER_PAYLOAD_TYPE, encodeVoucher(voucher))
}

export interface VoucherCheck {
  relay: PeerId
  /** Who reserved: us. */
  peer: PeerId
  /** Unix seconds now (the caller's clock, so tests can move it). */
  nowSeconds: number
}

/**
 * The client's side: opens the envelope and checks signature, payload type, signer == relay,
 * voucher.relay == relay, voucher.peer == us and expiration in the future. Returns the voucher.
 */
export async function verifyVoucher (envelopeBytes: Uint8Array, check: VoucherCheck): Promise<Voucher> {
  let envelope
  try {
    envelope = await openAndVerify(envelopeBytes, VOUCHER_DOMAIN, MAX_RELAY_MESSAGE_SIZE)
  } catch (err) {
    throw new InvalidVoucherError(`voucher envelope rejected: ${(err as Error).message}`, { cause: err })
  }
  if (!equalBytes(envelope.payloadType, VOUCHER_PAYLOAD_TYPE)) throw new InvalidVoucherError('voucher envelope has the wrong payload type')
  if (!peerIdFromPublicKey(envelope.publicKey).equals(check.relay)) throw new InvalidVoucherError('voucher is not signed by the relay')
  let voucher: Voucher
  try {
    voucher = decodeVoucher(envelope.payload)
  } catch (err) {
    throw new InvalidVoucherError(`voucher payload malformed: ${(err as Error).message}`, { cause: err })
  }
  if (!equalBytes(voucher.relay, check.relay.bytes)) throw new InvalidVoucherError('voucher names another relay')
  if (!equalBytes(voucher.peer, check.peer.bytes)) throw new InvalidVoucherError('voucher names another peer')
  if (voucher.expiration <= BigInt(Math.floor(check.nowSeconds))) throw new InvalidVoucherError(`voucher expired at ${voucher.expiration}`)
  return voucher
}
