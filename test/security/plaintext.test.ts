import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runEncrypterConformance } from './conformance.ts'
import { decodeExchange, encodeExchange, plaintext, PLAINTEXT_PROTOCOL } from '../../src/security/plaintext.ts'
import { generateKeyPair } from '../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../src/peer/peer-id.ts'
import { duplexPair } from '../../src/util/duplex-pair.ts'
import { encodeLP } from '../../src/util/stream-reader.ts'
import { HandshakeError, InvalidMessageError, Libp2pError, MessageTooLargeError } from '../../src/util/errors.ts'

runEncrypterConformance('plaintext', plaintext(), { authenticates: false })

test('plaintext: the protocol id and the Exchange encoding', async () => {
  const privateKey = await generateKeyPair('Ed25519')
  const encrypter = plaintext()({ privateKey })
  assert.equal(encrypter.protocol, PLAINTEXT_PROTOCOL)
  const id = peerIdFromPrivateKey(privateKey).bytes
  const pubkey = privateKey.publicKey.toProtobuf()
  const bytes = encodeExchange({ id, pubkey })
  assert.deepEqual(bytes.subarray(0, 2), Uint8Array.of(0x0a, id.length))
  assert.deepEqual(decodeExchange(bytes), { id, pubkey })
})

test('plaintext: malformed or hostile exchanges give typed errors', async () => {
  const privateKey = await generateKeyPair('Ed25519')
  const encrypter = plaintext()({ privateKey })
  const cases: Array<[Uint8Array, new (...args: any[]) => Error]> = [
    [encodeLP(Uint8Array.of(0x0a, 0x05, 1)), InvalidMessageError],
    [encodeLP(encodeExchange({ id: new Uint8Array(3), pubkey: new Uint8Array(3) })), HandshakeError],
    [Uint8Array.of(0xff, 0xff, 0xff, 0x7f), MessageTooLargeError],
    [Uint8Array.of(0x10, 1, 2), Libp2pError]
  ]
  for (const [input, errorClass] of cases) {
    const [a, b] = duplexPair()
    const securing = encrypter.secureInbound(a)
    await b.write(input)
    await b.closeWrite()
    await assert.rejects(securing, errorClass)
  }
})
