/**
 * Multibase text decoding for peer-id CIDs, which may arrive in any multibase (base32 by
 * default, base36 in DNS labels, base58btc, ...). A thin table over the `multiformats` bases.
 */
import { identity } from 'multiformats/bases/identity'
import * as base2 from 'multiformats/bases/base2'
import * as base8 from 'multiformats/bases/base8'
import * as base10 from 'multiformats/bases/base10'
import * as base16 from 'multiformats/bases/base16'
import * as base32 from 'multiformats/bases/base32'
import * as base36 from 'multiformats/bases/base36'
import * as base58 from 'multiformats/bases/base58'
import * as base64 from 'multiformats/bases/base64'
import * as base256emoji from 'multiformats/bases/base256emoji'

interface MultibaseCodec { prefix: string, decode(text: string): Uint8Array }

const DECODERS = new Map<string, MultibaseCodec>()
for (const group of [{ identity }, base2, base8, base10, base16, base32, base36, base58, base64, base256emoji]) {
  for (const codec of Object.values(group) as MultibaseCodec[]) DECODERS.set(codec.prefix, codec)
}

/** Decodes multibase text; returns undefined for an unknown prefix. Throws on bad characters. */
export function decodeMultibase (text: string): Uint8Array | undefined {
  const prefix = String.fromCodePoint(text.codePointAt(0) ?? 0)
  return DECODERS.get(prefix)?.decode(text)
}

/** A multibase codec that encodes with its prefix. */
export interface MultibaseEncoderDecoder extends MultibaseCodec {
  encode(bytes: Uint8Array): string
  /** Without the multibase prefix (base58btc peer ids are written bare). */
  baseEncode(bytes: Uint8Array): string
  baseDecode(text: string): Uint8Array
}

export const base58btc: MultibaseEncoderDecoder = base58.base58btc
export const base32Lower: MultibaseEncoderDecoder = base32.base32
