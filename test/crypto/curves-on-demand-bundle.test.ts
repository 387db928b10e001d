/**
 * The browser graph's on-demand curves, bundled as a browser bundler does it (esbuild, browser
 * conditions, code split) and run: the Weierstrass code sits in its own chunk, not in the
 * entry's, and a secp256k1 or ECDSA public key parsed from that bundle verifies through it
 * (a promise the first time, a boolean once loaded). Node runs the ES module chunks directly.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { p256 } from '@noble/curves/nist.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { repoRoot } from '../support/import-graph.ts'
import { encodeKeyProtobuf } from '../../src/crypto/key-protobuf.ts'
import { EcdsaPrivateKey } from '../../src/crypto/ecdsa.ts'
import { generateKeyPair } from '../../src/crypto/index.ts'

const ENTRY = `
import { publicKeyFromProtobuf } from './src/crypto/index.ts'
export async function verifyTwice (protobuf, data, signature) {
  const key = publicKeyFromProtobuf(protobuf)
  const first = key.verify(data, signature)
  const firstWasPromise = first instanceof Promise
  const firstResult = await first
  const second = key.verify(data, signature)
  return { firstWasPromise, first: firstResult, secondWasPromise: second instanceof Promise, second: await second }
}
`

test('a browser bundle loads the Weierstrass curves on the first verification, from their own chunk', async () => {
  const outdir = mkdtempSync(join(tmpdir(), 'curves-on-demand-'))
  try {
    const result = await build({
      stdin: { contents: ENTRY, resolveDir: repoRoot, sourcefile: 'entry.js', loader: 'js' },
      absWorkingDir: repoRoot,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'browser',
      outdir,
      entryNames: 'entry',
      metafile: true,
      logLevel: 'silent'
    })
    const outputs = Object.entries(result.metafile.outputs)
    const holding = (part: string): string[] => outputs.filter(([, o]) => Object.keys(o.inputs).some(p => p.includes(part))).map(([name]) => name)
    const entry = outputs.find(([name]) => name.endsWith('entry.js'))
    assert.ok(entry !== undefined)
    const weierstrass = holding('@noble/curves/abstract/weierstrass.js')
    assert.equal(weierstrass.length, 1)
    assert.notEqual(weierstrass[0], entry[0], 'not in the entry chunk')
    assert.ok(!entry[1].imports.some(i => i.path === weierstrass[0] && i.kind === 'import-statement'), 'the entry imports it only dynamically')

    const { verifyTwice } = await import(pathToFileURL(join(outdir, 'entry.js')).href)
    const data = new TextEncoder().encode('on demand')

    const secret = secp256k1.utils.randomSecretKey()
    const secpKey = encodeKeyProtobuf('secp256k1', secp256k1.getPublicKey(secret, true))
    const secpSignature = secp256k1.sign(sha256(data), secret, { prehash: false, format: 'der' })
    assert.deepEqual(await verifyTwice(secpKey, data, secpSignature), { firstWasPromise: true, first: true, secondWasPromise: false, second: true })
    const bent = secpSignature.slice()
    bent[bent.length - 1] ^= 1
    assert.deepEqual(await verifyTwice(secpKey, data, bent), { firstWasPromise: false, first: false, secondWasPromise: false, second: false })

    const ecdsa = await generateKeyPair('ECDSA') as EcdsaPrivateKey
    const ecdsaSignature = await ecdsa.sign(data)
    assert.deepEqual(await verifyTwice(ecdsa.publicKey.toProtobuf(), data, ecdsaSignature), { firstWasPromise: false, first: true, secondWasPromise: false, second: true }, 'one chunk holds every curve: loaded already')
    assert.ok(p256.verify(ecdsaSignature, sha256(data), ecdsa.publicKey.raw.subarray(-65), { prehash: false, format: 'der' }))
  } finally {
    rmSync(outdir, { recursive: true, force: true })
  }
})
