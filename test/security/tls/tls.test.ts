import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runEncrypterConformance } from '../conformance.ts'
import { tls, TLS_PROTOCOL } from '../../../src/security/tls/index.ts'
import { InvalidCertificateError } from '../../../src/security/tls/errors.ts'

runEncrypterConformance('tls', tls(), { authenticates: true, invalidSignatureError: InvalidCertificateError })

test('tls: the protocol id', () => {
  assert.equal(TLS_PROTOCOL, '/tls/1.0.0')
})
