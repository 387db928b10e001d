/**
 * RFC 9000 10.3.2: a stateless reset token computed from a static key and the connection id,
 * so an endpoint that lost all state (a restart) can still prove it owned the connection.
 * HMAC-SHA256 truncated to 16 bytes; the key must be secret, random and at least 16 bytes.
 */
import { timingSafeEqual } from 'node:crypto'
import { hmacSha256 } from './hmac.node.ts'

export const STATELESS_RESET_TOKEN_LENGTH = 16
const MIN_STATIC_KEY_LENGTH = 16

export function statelessResetToken (staticKey: Uint8Array, connectionId: Uint8Array): Uint8Array {
  if (staticKey.length < MIN_STATIC_KEY_LENGTH) throw new RangeError(`stateless reset key must be at least ${MIN_STATIC_KEY_LENGTH} bytes`)
  if (connectionId.length > 20) throw new RangeError(`connection id of ${connectionId.length} bytes exceeds 20`)
  return hmacSha256(staticKey, connectionId).subarray(0, STATELESS_RESET_TOKEN_LENGTH)
}

/** Constant-time comparison of two tokens (RFC 9000 10.3.1 asks for it). */
export function statelessResetTokensEqual (a: Uint8Array, b: Uint8Array): boolean {
  return a.length === STATELESS_RESET_TOKEN_LENGTH && b.length === STATELESS_RESET_TOKEN_LENGTH && timingSafeEqual(a, b)
}
