/**
 * Cross-check of our TLS 1.3 handshake against OpenSSL (node:tls) over real loopback TCP.
 * OpenSSL cannot speak QUIC, so a small TLS record layer written here carries our handshake's
 * messages: plaintext records for the hellos, then records protected with the TLS labels ("key",
 * "iv") of the very traffic secrets our handshake derives, which it reports through the test
 * tuning `onSecrets`. `plainTls` lets both sides go without quic_transport_parameters and lets
 * OpenSSL's client use its compatibility-mode session id. Everything else (transcript, key
 * schedule, HelloRetryRequest, CertificateRequest, the libp2p certificates both ways,
 * CertificateVerify, Finished, ALPN, 1-RTT secrets) must agree with OpenSSL's for the
 * application data to come back.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createCipheriv, createDecipheriv, createPrivateKey, X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { createServer as createTcpServer, connect as connectTcp } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { connect as connectTls, createServer as createTlsServer } from 'node:tls'
import type { TLSSocket } from 'node:tls'
import { generateKeyPair } from '../../../../src/crypto/index.ts'
import type { PrivateKey } from '../../../../src/interface/keys.ts'
import { peerIdFromPrivateKey } from '../../../../src/peer/peer-id.ts'
import { generateCertificate, verifyCertificate } from '../../../../src/peer/tls-certificate.ts'
import { ClientHandshake } from '../../../../src/transport/quic/crypto/client-handshake.node.ts'
import { ServerHandshake } from '../../../../src/transport/quic/crypto/server-handshake.node.ts'
import { hkdfExpandLabel } from '../../../../src/transport/quic/crypto/key-schedule.node.ts'
import { NamedGroup } from '../../../../src/transport/quic/crypto/tls-messages.ts'
import { QuicTlsError, TlsAlert } from '../../../../src/transport/quic/crypto/errors.ts'
import type { EncryptionLevel, QuicAeadName, QuicHandshake, QuicHandshakeOptions, QuicHandshakeResult } from '../../../../src/transport/quic/crypto/types.ts'

const CONTENT_ALERT = 21
const CONTENT_HANDSHAKE = 22
const CONTENT_APPLICATION = 23

interface RecordKeys { cipher: 'aes-128-gcm' | 'chacha20-poly1305', key: Buffer, iv: Buffer, sequence: bigint }

function recordKeys (aead: QuicAeadName, secret: Uint8Array): RecordKeys {
  const keyLength = aead === 'AES-128-GCM' ? 16 : 32
  return {
    cipher: aead === 'AES-128-GCM' ? 'aes-128-gcm' : 'chacha20-poly1305',
    key: Buffer.from(hkdfExpandLabel(secret, 'key', new Uint8Array(0), keyLength)),
    iv: Buffer.from(hkdfExpandLabel(secret, 'iv', new Uint8Array(0), 12)),
    sequence: 0n
  }
}

function nonceOf (keys: RecordKeys): Buffer {
  const nonce = Buffer.from(keys.iv)
  const sequence = Buffer.alloc(8)
  sequence.writeBigUInt64BE(keys.sequence)
  for (let i = 0; i < 8; i++) nonce[4 + i] ^= sequence[i]
  return nonce
}

/** RFC 8446 5.2: TLSInnerPlaintext = content || type, sealed with the 5-byte record header as AAD. */
function sealRecord (keys: RecordKeys, type: number, content: Uint8Array): Buffer {
  const inner = Buffer.concat([content, Uint8Array.of(type)])
  const header = Buffer.from([CONTENT_APPLICATION, 3, 3, (inner.length + 16) >> 8, (inner.length + 16) & 0xff])
  const cipher = createCipheriv(keys.cipher as 'aes-128-gcm', keys.key, nonceOf(keys), { authTagLength: 16 })
  cipher.setAAD(header)
  const body = Buffer.concat([cipher.update(inner), cipher.final(), cipher.getAuthTag()])
  keys.sequence++
  return Buffer.concat([header, body])
}

function openRecord (keys: RecordKeys, header: Buffer, body: Buffer): { type: number, content: Buffer } | undefined {
  const decipher = createDecipheriv(keys.cipher as 'aes-128-gcm', keys.key, nonceOf(keys), { authTagLength: 16 })
  decipher.setAAD(header)
  decipher.setAuthTag(body.subarray(body.length - 16))
  let inner: Buffer
  try {
    inner = Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()])
  } catch {
    return undefined
  }
  keys.sequence++
  let end = inner.length - 1
  while (end >= 0 && inner[end] === 0) end--
  return { type: inner[end], content: inner.subarray(0, end) }
}

/**
 * Our handshake on a TCP socket as a TLS 1.3 endpoint. Records it cannot open yet wait until
 * the handshake reports the next secrets (it may still be checking a certificate).
 */
class TlsOverOurHandshake {
  readonly handshake: QuicHandshake
  readonly result: Promise<QuicHandshakeResult>
  readonly applicationData: Buffer[] = []
  readonly alerts: number[] = []
  readonly sentLevels: EncryptionLevel[] = []
  private readonly socket: Socket
  private readonly readKeys = new Map<EncryptionLevel, RecordKeys>()
  private readonly writeKeys = new Map<EncryptionLevel, RecordKeys>()
  private received = Buffer.alloc(0)
  private onApplicationData?: () => void

  constructor (socket: Socket, role: 'client' | 'server', privateKey: PrivateKey, tuning: { groups?: number[] } = {}) {
    this.socket = socket
    let resolve!: (result: QuicHandshakeResult) => void
    let reject!: (err: Error) => void
    this.result = new Promise((res, rej) => { resolve = res; reject = rej })
    this.result.catch(() => {})
    const options: QuicHandshakeOptions = {
      role,
      privateKey,
      alpn: ['libp2p'],
      localTransportParameters: new Uint8Array(0),
      onCryptoData: (level, bytes) => { this.sendHandshake(level, bytes) },
      onKeys: () => {},
      onComplete: resolve,
      onError: reject
    }
    const handshakeTuning = {
      ...tuning,
      plainTls: true,
      onSecrets: (level: EncryptionLevel, aead: QuicAeadName, read: Uint8Array, write: Uint8Array) => {
        this.readKeys.set(level, recordKeys(aead, read))
        this.writeKeys.set(level, recordKeys(aead, write))
        queueMicrotask(() => { this.processRecords() })
      }
    }
    this.handshake = role === 'client' ? new ClientHandshake(options, handshakeTuning) : new ServerHandshake(options, handshakeTuning)
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk])
      this.processRecords()
    })
  }

  private sendHandshake (level: EncryptionLevel, bytes: Uint8Array): void {
    this.sentLevels.push(level)
    if (level === 'initial') {
      this.socket.write(Buffer.concat([Buffer.from([CONTENT_HANDSHAKE, 3, 3, bytes.length >> 8, bytes.length & 0xff]), bytes]))
      return
    }
    this.socket.write(sealRecord(this.writeKeys.get(level)!, CONTENT_HANDSHAKE, bytes))
  }

  sendApplicationData (bytes: Uint8Array): void {
    this.socket.write(sealRecord(this.writeKeys.get('application')!, CONTENT_APPLICATION, bytes))
  }

  async readApplicationData (length: number): Promise<Buffer> {
    while (Buffer.concat(this.applicationData).length < length) {
      await new Promise<void>((resolve) => { this.onApplicationData = resolve })
    }
    return Buffer.concat(this.applicationData)
  }

  private processRecords (): void {
    while (this.received.length >= 5) {
      const length = this.received.readUInt16BE(3)
      if (this.received.length < 5 + length) return
      const header = this.received.subarray(0, 5)
      const body = this.received.subarray(5, 5 + length)
      const type = header[0]
      if (type === CONTENT_HANDSHAKE) {
        this.handshake.receiveCryptoData('initial', Uint8Array.from(body))
      } else if (type === CONTENT_ALERT) {
        this.alerts.push(body[1])
      } else if (type === CONTENT_APPLICATION) {
        // Handshake keys first; after the server's Finished, 1-RTT keys. A record neither opens
        // waits for the next secrets.
        const levels: EncryptionLevel[] = ['handshake', 'application']
        let opened: { type: number, content: Buffer } | undefined
        let level: EncryptionLevel | undefined
        for (const candidate of levels) {
          const keys = this.readKeys.get(candidate)
          if (keys === undefined) continue
          opened = openRecord(keys, Buffer.from(header), body)
          if (opened !== undefined) { level = candidate; break }
        }
        if (opened === undefined || level === undefined) return
        if (level === 'application') this.readKeys.delete('handshake')
        if (opened.type === CONTENT_HANDSHAKE) this.handshake.receiveCryptoData(level, Uint8Array.from(opened.content))
        else if (opened.type === CONTENT_APPLICATION) { this.applicationData.push(opened.content); this.onApplicationData?.() }
        else if (opened.type === CONTENT_ALERT) this.alerts.push(opened.content[1])
      } // 20 = ChangeCipherSpec, which OpenSSL's client sends in compatibility mode: ignored, as RFC 8446 D.4 allows
      this.received = this.received.subarray(5 + length)
    }
  }
}

async function libp2pCertificatePem (key: PrivateKey): Promise<{ key: string, cert: string }> {
  const { der, certificateKey } = await generateCertificate(key)
  return {
    key: createPrivateKey({ key: Buffer.from(certificateKey.raw), format: 'der', type: 'sec1' }).export({ format: 'pem', type: 'pkcs8' }).toString(),
    cert: new X509Certificate(der).toString()
  }
}

async function ourClientAgainstOpenSsl (serverOptions: { ecdhCurve?: string, ciphers?: string }): Promise<{ cipher: string, sentLevels: EncryptionLevel[] }> {
  const serverKey = await generateKeyPair('Ed25519')
  const clientKey = await generateKeyPair('secp256k1')
  const server = createTlsServer({
    ...await libp2pCertificatePem(serverKey),
    ...serverOptions,
    requestCert: true,
    rejectUnauthorized: false,
    ALPNProtocols: ['libp2p'],
    minVersion: 'TLSv1.3'
  })
  const seenByServer = new Promise<{ peer: string, alpn: string | false | null, cipher: string }>((resolve, reject) => {
    server.on('secureConnection', (socket: TLSSocket) => {
      socket.on('error', reject)
      socket.on('data', (data: Buffer) => socket.write(Buffer.concat([Buffer.from('echo:'), data])))
      verifyCertificate(new Uint8Array(socket.getPeerX509Certificate()!.raw))
        .then(({ peerId }) => { resolve({ peer: peerId.toString(), alpn: socket.alpnProtocol, cipher: socket.getCipher().standardName }) }, reject)
    })
    server.on('tlsClientError', reject)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const socket = connectTcp((server.address() as AddressInfo).port, '127.0.0.1')
  try {
    await once(socket, 'connect')
    const ours = new TlsOverOurHandshake(socket, 'client', clientKey)
    ours.handshake.start()
    const result = await ours.result
    assert.ok(result.remotePeer?.equals(peerIdFromPrivateKey(serverKey)), 'our client authenticated the OpenSSL server by its libp2p certificate')
    assert.equal(result.alpn, 'libp2p')
    const seen = await seenByServer
    assert.equal(seen.peer, peerIdFromPrivateKey(clientKey).toString(), 'OpenSSL received our client certificate')
    assert.equal(seen.alpn, 'libp2p')
    ours.sendApplicationData(new TextEncoder().encode('over our 1-RTT keys'))
    assert.equal((await ours.readApplicationData(24)).toString(), 'echo:over our 1-RTT keys')
    assert.deepEqual(ours.alerts, [])
    return { cipher: seen.cipher, sentLevels: ours.sentLevels }
  } finally {
    socket.destroy()
    server.close()
  }
}

test('our client completes a TLS 1.3 handshake with OpenSSL (AES-128-GCM, X25519), both certificates checked, data echoed', async () => {
  const { cipher, sentLevels } = await ourClientAgainstOpenSsl({ ciphers: 'TLS_AES_128_GCM_SHA256' })
  assert.equal(cipher, 'TLS_AES_128_GCM_SHA256')
  assert.deepEqual(sentLevels, ['initial', 'handshake'])
})

test('our client with OpenSSL choosing ChaCha20-Poly1305', async () => {
  const { cipher } = await ourClientAgainstOpenSsl({ ciphers: 'TLS_CHACHA20_POLY1305_SHA256' })
  assert.equal(cipher, 'TLS_CHACHA20_POLY1305_SHA256')
})

test('our client answers OpenSSL\'s HelloRetryRequest for P-256 and completes', async () => {
  const { sentLevels } = await ourClientAgainstOpenSsl({ ecdhCurve: 'P-256' })
  assert.deepEqual(sentLevels, ['initial', 'initial', 'handshake'], 'a second ClientHello answered the retry')
})

interface OpenSslClientCase { withCertificate: boolean, groups?: number[] }

async function openSslClientAgainstOurServer ({ withCertificate, groups }: OpenSslClientCase, check: (ours: TlsOverOurHandshake, client: TLSSocket, serverKey: PrivateKey, clientKey: PrivateKey) => Promise<void>): Promise<void> {
  const serverKey = await generateKeyPair('ECDSA')
  const clientKey = await generateKeyPair('Ed25519')
  const listener = createTcpServer()
  listener.listen(0, '127.0.0.1')
  await once(listener, 'listening')
  const accepted = once(listener, 'connection') as Promise<[Socket]>
  const client = connectTls({
    ...withCertificate ? await libp2pCertificatePem(clientKey) : {},
    host: '127.0.0.1',
    port: (listener.address() as AddressInfo).port,
    ALPNProtocols: ['libp2p'],
    minVersion: 'TLSv1.3',
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined
  })
  client.on('error', () => {})
  const [socket] = await accepted
  try {
    await check(new TlsOverOurHandshake(socket, 'server', serverKey, { groups }), client, serverKey, clientKey)
  } finally {
    client.destroy()
    socket.destroy()
    listener.close()
  }
}

for (const groups of [undefined, [NamedGroup.secp256r1]]) {
  const title = groups === undefined ? '' : ' after our HelloRetryRequest for P-256'
  test(`OpenSSL's client completes a handshake with our server (which requires its certificate)${title}, data echoed`, async () => {
    await openSslClientAgainstOurServer({ withCertificate: true, groups }, async (ours, client, serverKey, clientKey) => {
      await once(client, 'secureConnect')
      assert.equal(client.alpnProtocol, 'libp2p')
      const { peerId } = await verifyCertificate(new Uint8Array(client.getPeerX509Certificate()!.raw))
      assert.ok(peerId.equals(peerIdFromPrivateKey(serverKey)), 'OpenSSL received our server certificate')
      client.write('hello from OpenSSL')
      const result = await ours.result
      assert.ok(result.remotePeer?.equals(peerIdFromPrivateKey(clientKey)), 'our server authenticated OpenSSL\'s client certificate')
      assert.equal((await ours.readApplicationData(18)).toString(), 'hello from OpenSSL')
      ours.sendApplicationData(new TextEncoder().encode('and back'))
      const [reply] = await once(client, 'data') as [Buffer]
      assert.equal(reply.toString(), 'and back')
      assert.deepEqual(ours.sentLevels, groups === undefined ? ['initial', 'handshake'] : ['initial', 'initial', 'handshake'])
    })
  })
}

test('an OpenSSL client without a certificate is refused by our server with certificate_required', async () => {
  await openSslClientAgainstOurServer({ withCertificate: false }, async (ours) => {
    await assert.rejects(ours.result, (err: QuicTlsError) => err instanceof QuicTlsError && err.tlsAlert === TlsAlert.certificateRequired)
  })
})
