/**
 * Private networks end to end: nodes sharing a key connect (Noise and TLS above the pnet
 * layer, real TCP), a node with another key or none fails fast with
 * PrivateNetworkMismatchError (well inside the upgrade timeout), and LIBP2P_FORCE_PNET=1
 * refuses a node without a key.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p } from '../../../src/index.ts'
import type { Libp2p } from '../../../src/index.ts'
import { tcp } from '../../../src/transport/tcp/index.ts'
import { noise } from '../../../src/security/noise/index.ts'
import { tls } from '../../../src/security/tls/index.ts'
import { yamux } from '../../../src/muxer/yamux/index.ts'
import { ping, type PingService } from '../../../src/protocols/ping/index.ts'
import { generatePreSharedKey, preSharedKey, PrivateNetworkMismatchError, PrivateNetworkRequiredError } from '../../../src/security/pnet/index.ts'
import { DialError } from '../../../src/switch/errors.ts'

/** Far below the 10 s upgrade timeout: a wrong key must not be found out by a timeout. */
const FAIL_FAST_MS = 3_000

async function makeNode (psk: Uint8Array | undefined, encrypter: 'noise' | 'tls' = 'noise'): Promise<Libp2p<{ ping: PingService }>> {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [encrypter === 'tls' ? tls() : noise()],
    streamMuxers: [yamux()],
    ...(psk !== undefined ? { connectionProtector: preSharedKey({ psk }) } : {}),
    // Tests dial the same node many times a second.
    connectionManager: { inboundConnectionThreshold: 1000 },
    services: { ping: ping() }
  })
}

for (const encrypter of ['noise', 'tls'] as const) {
  test(`pnet: two nodes with the same key connect and ping (${encrypter} above pnet)`, async () => {
    const psk = generatePreSharedKey()
    const a = await makeNode(psk, encrypter)
    const b = await makeNode(psk, encrypter)
    try {
      const rtt = await a.services.ping.ping(b.getMultiaddrs()[0], { signal: AbortSignal.timeout(10_000) })
      assert.ok(Number.isFinite(rtt))
      assert.equal(a.getConnections(b.peerId).length, 1)
    } finally {
      await a.stop()
      await b.stop()
    }
  })
}

function assertMismatch (err: unknown): true {
  assert.ok(err instanceof DialError, String(err))
  assert.ok(err.errors.some(e => e.error instanceof PrivateNetworkMismatchError || (e.error.cause instanceof PrivateNetworkMismatchError)), err.message)
  return true
}

test('pnet: a node with another key fails fast with PrivateNetworkMismatchError, on both sides', async () => {
  const a = await makeNode(generatePreSharedKey())
  const b = await makeNode(generatePreSharedKey())
  try {
    const inboundFailure = new Promise<void>((resolve) => {
      b.addEventListener('connection:open', () => { assert.fail('the listener accepted a node of another network') })
      setImmediate(resolve)
    })
    const started = Date.now()
    await assert.rejects(a.dial(b.getMultiaddrs()[0], { signal: AbortSignal.timeout(20_000) }), assertMismatch)
    assert.ok(Date.now() - started < FAIL_FAST_MS, `took ${Date.now() - started} ms`)
    await inboundFailure
    assert.equal(b.getConnections().length, 0)
  } finally {
    await a.stop()
    await b.stop()
  }
})

test('pnet: a node outside any private network cannot connect to one, either way, and fails fast', async () => {
  const inside = await makeNode(generatePreSharedKey())
  const outside = await makeNode(undefined)
  try {
    // Several times: each dial sends a fresh random nonce, which the outsider reads as a
    // multistream-select length; none may leave the two waiting on each other.
    let started = Date.now()
    for (let i = 0; i < 8; i++) {
      await assert.rejects(inside.dial(outside.getMultiaddrs()[0], { signal: AbortSignal.timeout(20_000) }), assertMismatch)
    }
    assert.ok(Date.now() - started < FAIL_FAST_MS, `took ${Date.now() - started} ms`)
    started = Date.now()
    await assert.rejects(outside.dial(inside.getMultiaddrs()[0], { signal: AbortSignal.timeout(20_000) }), DialError)
    assert.ok(Date.now() - started < FAIL_FAST_MS, `took ${Date.now() - started} ms`)
    assert.equal(inside.getConnections().length, 0)
    assert.equal(outside.getConnections().length, 0)
  } finally {
    await inside.stop()
    await outside.stop()
  }
})

test('pnet: LIBP2P_FORCE_PNET=1 refuses a node without a key, and accepts one with a key', async () => {
  process.env.LIBP2P_FORCE_PNET = '1'
  try {
    await assert.rejects(makeNode(undefined), (err: Error) => err instanceof PrivateNetworkRequiredError && (err as PrivateNetworkRequiredError).code === 'ERR_PNET_REQUIRED')
    const node = await makeNode(generatePreSharedKey())
    await node.stop()
  } finally {
    delete process.env.LIBP2P_FORCE_PNET
  }
})
