import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { publicKeyFromSpki, recentPublicKeyFromSpki } from '../../src/crypto/key-object.node.ts'

function freshSpki (): Uint8Array {
  return new Uint8Array(generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }))
}

describe('recentPublicKeyFromSpki', () => {
  it('imports the same key as publicKeyFromSpki, once for the same bytes', () => {
    const spki = freshSpki()
    const first = recentPublicKeyFromSpki(spki)
    assert.ok(first.equals(publicKeyFromSpki(spki)))
    assert.equal(recentPublicKeyFromSpki(spki.slice()), first, 'a copy of the same bytes finds the kept key')
    assert.notEqual(recentPublicKeyFromSpki(freshSpki()), first)
  })

  it('keeps at most 64 keys, dropping the least recently used', () => {
    const kept = freshSpki()
    const dropped = freshSpki()
    const keptKey = recentPublicKeyFromSpki(kept)
    const droppedKey = recentPublicKeyFromSpki(dropped)
    for (let i = 0; i < 63; i++) {
      recentPublicKeyFromSpki(freshSpki())
      recentPublicKeyFromSpki(kept) // used again: stays the most recent
    }
    assert.equal(recentPublicKeyFromSpki(kept), keptKey)
    assert.notEqual(recentPublicKeyFromSpki(dropped), droppedKey, 'imported anew after being pushed out')
  })

  it('throws for a bad key every time and keeps nothing of it', () => {
    const bad = freshSpki()
    bad[1] = 0x7f // a DER length past the end
    assert.throws(() => recentPublicKeyFromSpki(bad))
    assert.throws(() => recentPublicKeyFromSpki(bad))
  })
})
