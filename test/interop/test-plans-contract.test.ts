/**
 * The test-plans transport-interop contract pieces (interop/test-plans/): the environment,
 * test-plans' own result extraction, the cell generator, our Redis client against a real
 * redis-server, and ts-libp2p's test app in both roles of one cell, as the harness runs it.
 */
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { dialerTimings, pickPublishedAddr, readContractEnv, transportOf } from '../../interop/test-plans/contract.ts'
import { cellName, generateCells, reducedCells, selectCells } from '../../interop/test-plans/cells.ts'
import { IMPLEMENTATIONS } from '../../interop/test-plans/implementations.ts'
import { RedisClient, RedisReplyError } from '../../interop/test-plans/redis.ts'
import { runCell, startRedis, type RedisServer } from '../../interop/test-plans/run-cell.ts'

const hasRedis = spawnSync('redis-server', ['--version']).status === 0
const noRedis = hasRedis ? false : 'redis-server is missing: scripts/install-system-packages.sh installs it'

test('the contract environment: test-plans names, js-libp2p\'s timeout name, unified-testing names', () => {
  const env = readContractEnv({ transport: 'tcp', security: 'noise', muxer: 'mplex', is_dialer: 'true', ip: '0.0.0.0', redis_addr: 'redis:6379', test_timeout_secs: '30' })
  assert.deepEqual(env, { transport: 'tcp', security: 'noise', muxer: 'mplex', isDialer: true, ip: '0.0.0.0', redisAddr: 'redis:6379', timeoutSeconds: 30, redisKey: 'listenerAddr' })
  const quic = readContractEnv({ transport: 'quic-v1', is_dialer: 'false' })
  assert.deepEqual([quic.security, quic.muxer, quic.timeoutSeconds, quic.redisAddr], [undefined, undefined, 180, 'redis:6379'])
  const unified = readContractEnv({ TRANSPORT: 'ws', SECURE_CHANNEL: 'tls', MUXER: 'yamux', IS_DIALER: 'false', LISTENER_IP: '10.0.0.2', REDIS_ADDR: 'r:1', TEST_KEY: 'a1b2c3d4' })
  assert.deepEqual([unified.transport, unified.security, unified.ip, unified.redisKey], ['ws', 'tls', '10.0.0.2', 'a1b2c3d4_listener_multiaddr'])
  assert.throws(() => readContractEnv({ transport: 'tcp', is_dialer: 'true' }), { name: 'ContractEnvError' })
  assert.throws(() => readContractEnv({ transport: 'udp', is_dialer: 'true' }), { name: 'ContractEnvError' })
  assert.throws(() => readContractEnv({ transport: 'quic-v1', is_dialer: 'yes' }), { code: 'ERR_CONTRACT_ENV' })
})

test('the published address: the transport\'s, non-loopback first, a wildcard made concrete', () => {
  const addrs = ['/ip4/127.0.0.1/tcp/1/p2p/X', '/ip4/127.0.0.1/tcp/2/ws/p2p/X', '/ip4/10.0.0.2/tcp/1/p2p/X', '/ip4/127.0.0.1/udp/3/quic-v1/webtransport/certhash/uE/p2p/X']
  assert.equal(pickPublishedAddr(addrs, 'tcp'), '/ip4/10.0.0.2/tcp/1/p2p/X')
  assert.equal(pickPublishedAddr(addrs, 'ws'), '/ip4/127.0.0.1/tcp/2/ws/p2p/X')
  assert.equal(pickPublishedAddr(addrs, 'webtransport'), addrs[3])
  assert.equal(pickPublishedAddr(addrs, 'quic-v1'), undefined)
  // a wildcard stands for the local addresses (loopback at least)
  assert.match(pickPublishedAddr(['/ip4/0.0.0.0/tcp/1/p2p/X'], 'tcp')!, /^\/ip4\/(?!0\.0\.0\.0)[\d.]+\/tcp\/1\/p2p\/X$/)
  assert.equal(pickPublishedAddr(['/ip6/::/tcp/1/p2p/X'], 'tcp'), undefined)
  assert.equal(transportOf('/ip4/1.2.3.4/udp/1/webrtc-direct/certhash/uE/p2p/X'), 'webrtc-direct')
  assert.equal(transportOf('/ip4/1.2.3.4/tcp/1/p2p/R/p2p-circuit/p2p/X'), undefined)
})

test('results are read with test-plans\' dialerTimings: split lines, logs around the JSON', () => {
  assert.deepEqual(dialerTimings('{"handshakePlusOneRTTMillis":\n8.849\n, "pingRTTMilllis":\n7.897}'), { handshakePlusOneRTTMillis: 8.849, pingRTTMilllis: 7.897 })
  assert.deepEqual(dialerTimings('log {not json}\n{"other":1}\n{"handshakePlusOneRTTMillis":4155,"pingRTTMilllis":781}\n1 passing'), { handshakePlusOneRTTMillis: 4155, pingRTTMilllis: 781 })
  assert.throws(() => dialerTimings('no result here'), /No opening curly bracket/)
  // the harness's spelling: two l's is not a result
  assert.throws(() => dialerTimings('{"handshakePlusOneRTTMillis":1,"pingRTTMillis":1}'))
})

test('cells are generated as test-plans does: common transport, security and muxer; standalone transports once', () => {
  const cells = generateCells(IMPLEMENTATIONS)
  const names = new Set(cells.map(c => c.name))
  assert.equal(names.size, cells.length)
  assert.ok(names.has(cellName('ts', 'go', 'tcp', 'noise', 'yamux')))
  assert.ok(names.has('go x ts (quic-v1)'))
  assert.equal(cells.find(c => c.name === 'go x ts (tcp, noise, mplex)')?.unsupported, 'go: no mplex')
  assert.equal(cells.find(c => c.name === 'js x ts (webtransport)')?.unsupported, 'js: no webtransport')
  // ts with itself once per combination, every other implementation in both roles
  assert.equal(cells.filter(c => c.dialer === 'ts' && c.listener === 'ts').length, 2 * 4 + 3)
  assert.equal(cells.length, (2 * IMPLEMENTATIONS.length - 1) * (2 * 4 + 3))
  assert.deepEqual(selectCells(cells, ['go x ts (tcp'], ['mplex']).map(c => c.name), ['go x ts (tcp, noise, yamux)', 'go x ts (tcp, tls, yamux)'])
  const reduced = reducedCells(cells)
  assert.ok(reduced.every(c => c.unsupported === undefined))
  const keys = reduced.map(c => `${c.dialer === 'ts' ? c.listener : c.dialer}/${c.transport}`)
  assert.equal(new Set(keys).size, keys.length)
  assert.ok(reduced.some(c => c.dialer === 'ts' && c.listener === 'go') && reduced.some(c => c.dialer === 'go' && c.listener === 'ts'))
})

describe('against a real redis-server', { skip: noRedis }, () => {
  let redis: RedisServer
  before(async () => { redis = await startRedis() })
  after(async () => { await redis?.stop() })

  test('RPUSH, BLPOP (ready and timing out), DEL, and a Redis error', async () => {
    const other = await RedisClient.connect(redis.addr)
    try {
      assert.equal(await redis.client.command(['DEL', 'k'], 5000), 0)
      const waiting = other.command(['BLPOP', 'k', '5'], 10_000)
      assert.equal(await redis.client.command(['RPUSH', 'k', '/ip4/10.0.0.2/tcp/1/p2p/X'], 5000), 1)
      assert.deepEqual(await waiting, ['k', '/ip4/10.0.0.2/tcp/1/p2p/X'])
      assert.equal(await other.command(['BLPOP', 'k', '1'], 5000), null)
      await assert.rejects(other.command(['NOSUCHCOMMAND'], 5000), (err: Error) => err instanceof RedisReplyError && /unknown command/i.test(err.message))
      assert.equal(await other.command(['PING'], 5000), 'PONG')
    } finally {
      other.close()
    }
  })

  test('ts-libp2p\'s test app in both roles of a cell, as the harness runs it', { timeout: 120_000 }, async () => {
    const impls = new Map(IMPLEMENTATIONS.map(i => [i.id, i]))
    for (const name of ['ts x ts (tcp, noise, yamux)', 'ts x ts (quic-v1)']) {
      const cell = generateCells(IMPLEMENTATIONS).find(c => c.name === name)!
      const result = await runCell(cell, impls, { redis, timeoutSeconds: 30, ip: '127.0.0.1' })
      assert.equal(result.status, 'pass', `${name}: ${result.reason}`)
      assert.ok(result.handshakePlusOneRTTMillis! > 0 && result.pingRTTMilllis! >= 0 && result.pingRTTMilllis! <= result.handshakePlusOneRTTMillis!)
    }
  })

  test('a cell whose listener never publishes fails within its time limit, naming why', { timeout: 60_000 }, async () => {
    const impls = new Map(IMPLEMENTATIONS.map(i => [i.id, i]))
    // a listener that cannot start (no such ip): the dialer's BLPOP times out, the cell fails
    const cell = { ...generateCells(IMPLEMENTATIONS).find(c => c.name === 'ts x ts (tcp, noise, yamux)')! }
    const result = await runCell(cell, impls, { redis, timeoutSeconds: 5, ip: '192.0.2.254' })
    assert.equal(result.status, 'fail')
    assert.match(result.reason!, /no listener address|No opening curly bracket/)
  })
})
