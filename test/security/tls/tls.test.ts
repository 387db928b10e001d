import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runEncrypterConformance } from '../conformance.ts'
import { tls, TLS_PROTOCOL } from '../../../src/security/tls/index.ts'
import { InvalidCertificateError } from '../../../src/security/tls/errors.ts'

runEncrypterConformance('tls', tls(), { authenticates: true, invalidSignatureError: InvalidCertificateError })

test('tls: the protocol id', () => {
  assert.equal(TLS_PROTOCOL, '/tls/1.0.0')
})

test('tls: in browsers (the #tls-runtime default condition) tls() fails at once with TlsUnsupportedError', async () => {
  const { TlsRuntime } = await import('../../../src/security/tls/tls.browser.ts')
  const { generateKeyPair } = await import('../../../src/crypto/index.ts')
  const { TlsUnsupportedError } = await import('../../../src/security/tls/errors.ts')
  const privateKey = await generateKeyPair('Ed25519')
  assert.throws(() => new TlsRuntime(privateKey, {}), (err: Error) => err instanceof TlsUnsupportedError && (err as InstanceType<typeof TlsUnsupportedError>).code === 'ERR_TLS_UNSUPPORTED')
})
