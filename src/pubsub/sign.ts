/**
 * Message authorship (specs pubsub/README.md "Message Signing"): StrictSign messages carry
 * `from`, an 8-byte `seqno` and a signature by the author's key over
 * `"libp2p-pubsub:" || marshal(message without signature and key)`; StrictNoSign messages
 * carry none of these. Also the message id functions: go's default `from || seqno` for signed
 * messages, and sha2-256 of the data for unsigned ones (what js uses; go has no usable default).
 */
import type { PrivateKey, PublicKey } from '../interface/keys.ts'
import type { PeerId } from '../interface/peer-id.ts'
import { publicKeyFromProtobuf, sha256 } from '../crypto/index.ts'
import { peerIdFromMultihash, peerIdFromPublicKey } from '../peer/peer-id.ts'
import { utf8Encode } from '../util/bytes.ts'
import { encodeMessage, type PubSubRpcMessage } from './rpc.ts'

export const StrictSign = 'StrictSign'
export const StrictNoSign = 'StrictNoSign'
export type SignaturePolicy = typeof StrictSign | typeof StrictNoSign

const SIGN_PREFIX = utf8Encode('libp2p-pubsub:')
/** Multihash code of peer ids that inline their public key. */
const IDENTITY_MULTIHASH = 0x00

/** Why a message failed the signing policy (used for logs and peer scoring). */
export type SignatureCheckFailure = 'missing-signature' | 'missing-from' | 'invalid-seqno' | 'invalid-peer-id' | 'invalid-key' | 'key-mismatch' | 'invalid-signature' | 'unexpected-signature-fields'

/** Seqnos increase from the wall clock in ns, like go and js, so restarts keep them growing. */
let seqnoCounter = BigInt(Date.now()) * 1_000_000n

export function nextSeqno (): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, ++seqnoCounter, false)
  return out
}

export function seqnoToBigInt (seqno: Uint8Array | undefined): bigint | undefined {
  if (seqno === undefined || seqno.length !== 8) return undefined
  return new DataView(seqno.buffer, seqno.byteOffset, 8).getBigUint64(0, false)
}

/** Builds a message ready to send under `policy` (signed with `privateKey` for StrictSign). */
export async function buildMessage (policy: SignaturePolicy, privateKey: PrivateKey, author: PeerId, topic: string, data: Uint8Array): Promise<PubSubRpcMessage> {
  if (policy === StrictNoSign) return { topic, data }
  const msg: PubSubRpcMessage = { from: author.bytes, data, seqno: nextSeqno(), topic }
  msg.signature = await privateKey.sign(encodeMessage(msg, true, SIGN_PREFIX))
  // the key travels only when the peer id cannot carry it (RSA, ECDSA)
  if (author.bytes[0] !== IDENTITY_MULTIHASH) {
    msg.key = privateKey.publicKey.toProtobuf()
  }
  return msg
}

export interface SignatureCheck {
  ok: boolean
  failure?: SignatureCheckFailure
  author?: PeerId
  key?: PublicKey
}

/** Checks `msg` against the signing policy, verifying the signature for StrictSign. */
export async function checkMessageSignature (policy: SignaturePolicy, msg: PubSubRpcMessage): Promise<SignatureCheck> {
  if (policy === StrictNoSign) {
    if (msg.signature !== undefined || msg.seqno !== undefined || msg.key !== undefined || msg.from !== undefined) {
      return { ok: false, failure: 'unexpected-signature-fields' }
    }
    return { ok: true }
  }
  if (msg.signature === undefined) return { ok: false, failure: 'missing-signature' }
  if (msg.from === undefined) return { ok: false, failure: 'missing-from' }
  if (msg.seqno === undefined || msg.seqno.length !== 8) return { ok: false, failure: 'invalid-seqno' }
  let author: PeerId
  try {
    author = peerIdFromMultihash(msg.from)
  } catch {
    return { ok: false, failure: 'invalid-peer-id' }
  }
  let key: PublicKey | undefined
  if (msg.key !== undefined) {
    try {
      key = publicKeyFromProtobuf(msg.key)
    } catch {
      return { ok: false, failure: 'invalid-key' }
    }
    if (!peerIdFromPublicKey(key).equals(author)) return { ok: false, failure: 'key-mismatch' }
  } else {
    key = author.publicKey
    if (key === undefined) return { ok: false, failure: 'invalid-key' }
  }
  let valid: boolean
  try {
    valid = await key.verify(encodeMessage(msg, true, SIGN_PREFIX), msg.signature)
  } catch {
    valid = false
  }
  if (!valid) return { ok: false, failure: 'invalid-signature' }
  return { ok: true, author, key }
}

/** Computes a message id; must give the same bytes on every node of the network. */
export type MessageIdFn = (msg: PubSubRpcMessage) => Uint8Array | Promise<Uint8Array>

/** go-libp2p-pubsub's DefaultMsgIdFn: `from || seqno`. */
export function messageIdFromAuthor (msg: PubSubRpcMessage): Uint8Array {
  const from = msg.from ?? new Uint8Array(0)
  const seqno = msg.seqno ?? new Uint8Array(0)
  const out = new Uint8Array(from.length + seqno.length)
  out.set(from)
  out.set(seqno, from.length)
  return out
}

/** sha2-256 of the data: for StrictNoSign, where there is no author or seqno. */
export function messageIdFromData (msg: PubSubRpcMessage): Uint8Array {
  return sha256(msg.data ?? new Uint8Array(0))
}

export function defaultMessageIdFn (policy: SignaturePolicy): MessageIdFn {
  return policy === StrictSign ? messageIdFromAuthor : messageIdFromData
}
