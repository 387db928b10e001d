/**
 * The real TLS 1.3 handshake and packet protection (crypto/index.ts `quicCrypto`) under the
 * QUIC transport over loopback UDP: the peers authenticate each other by their libp2p
 * certificates, data crosses under AES-128-GCM 1-RTT keys, and a dial to the wrong peer fails
 * in the handshake. (The transport's own tests use a stand-in crypto; this is where the two meet.)
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '../../../../src/crypto/index.ts'
import { peerIdFromPrivateKey } from '../../../../src/peer/peer-id.ts'
import { QuicTransport } from '../../../../src/transport/quic/index.ts'
import type { QuicNativeConnection } from '../../../../src/transport/quic/native-connection.ts'
import { quicCrypto } from '../../../../src/transport/quic/crypto/index.ts'
import type { RawConnection } from '../../../../src/interface/transport.ts'
import type { Stream } from '../../../../src/interface/stream.ts'
import { seededBytes } from '../../../support/random.ts'

function muxerOf (raw: RawConnection, onStream: (s: Stream) => void = () => {}) {
  return (raw as QuicNativeConnection).native!.streamMuxer.createStreamMuxer(raw, { direction: raw.direction, onIncomingStream: onStream })
}

async function readAll (s: Stream): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const c of s) chunks.push(c.slice())
  return Buffer.concat(chunks)
}

async function setUp () {
  const serverKey = await generateKeyPair('Ed25519')
  const clientKey = await generateKeyPair('secp256k1')
  const server = new QuicTransport({ crypto: quicCrypto }, { privateKey: serverKey })
  const client = new QuicTransport({ crypto: quicCrypto }, { privateKey: clientKey })
  let accepted!: (c: RawConnection) => void
  const inbound = new Promise<RawConnection>(resolve => { accepted = resolve })
  const listener = server.createListener({ onConnection: c => { accepted(c) } })
  await listener.listen(multiaddr('/ip4/127.0.0.1/udp/0/quic-v1'))
  const close = async (): Promise<void> => { await listener.close(); await client.close(); await server.close() }
  return { server, client, listener, inbound, close, addr: listener.getAddrs()[0], serverPeer: peerIdFromPrivateKey(serverKey), clientPeer: peerIdFromPrivateKey(clientKey) }
}

test('QUIC with the real TLS: both peers authenticated, 1 MiB echoed on a stream, clean close', async () => {
  const { client, inbound, close, addr, serverPeer, clientPeer } = await setUp()
  try {
    const raw = await client.dial(multiaddr(`${addr.toString()}/p2p/${serverPeer.toString()}`))
    assert.ok(raw.native?.remotePeer.equals(serverPeer))
    const accepted = await inbound
    assert.ok(accepted.native?.remotePeer.equals(clientPeer))
    muxerOf(accepted, (s) => {
      void (async () => { for await (const c of s) await s.write(c.slice()); await s.closeWrite() })().catch(() => {})
    })
    const muxer = muxerOf(raw)
    const stream = await muxer.newStream()
    const payload = seededBytes(1 << 20, 7)
    const reading = readAll(stream)
    await stream.write(payload)
    await stream.closeWrite()
    assert.deepEqual(Buffer.from(await reading), Buffer.from(payload))
    await muxer.close()
    await raw.closed
  } finally {
    await close()
  }
})

test('QUIC with the real TLS: dialing a peer id the server does not have fails the handshake', async () => {
  const { client, close, addr } = await setUp()
  try {
    const someoneElse = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    await assert.rejects(client.dial(multiaddr(`${addr.toString()}/p2p/${someoneElse.toString()}`)), (err: Error & { tlsAlert?: number }) => {
      // bad_certificate (42): the certificate proves another peer.
      assert.match(`${err.name}: ${err.message} ${String((err as { cause?: unknown }).cause)}`, /not the expected|bad_certificate|0x12a|certificate/i)
      return true
    })
  } finally {
    await close()
  }
})
