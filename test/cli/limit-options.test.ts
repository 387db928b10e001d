/**
 * `start`'s resource-manager flags: what they turn into for createLibp2p, their usage errors,
 * and a node built from them refusing a connection over the per-IP limit.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseLimitOptions } from '../../src/cli/limit-options.ts'
import { UsageError } from '../../src/cli/args.ts'
import { ResourceManager } from '../../src/switch/resource-manager/index.ts'
import { multiaddr } from '../../src/index.ts'

test('no flags keep the machine-scaled defaults; --no-limits turns the manager off', () => {
  assert.deepEqual(parseLimitOptions({}), {})
  assert.equal(parseLimitOptions({ 'no-limits': true }), false)
})

test('--allow, --conns-per-ip and --conns-per-subnet become the allowlist and the ip/subnet limits', () => {
  assert.deepEqual(parseLimitOptions({ allow: ['10.0.0.0/8', '/ip4/192.0.2.1'], 'conns-per-ip': '2', 'conns-per-subnet': '5' }), {
    allowlist: ['10.0.0.0/8', '/ip4/192.0.2.1'],
    limits: { ip: { conns: 2 }, subnet: { conns: 5 } }
  })
})

test('--limit-loopback and --limit-private-subnets turn the per-address limits on for those ranges', () => {
  assert.deepEqual(parseLimitOptions({ 'limit-loopback': true, 'limit-private-subnets': true }), { limitLoopback: true, limitPrivateSubnets: true })
  assert.throws(() => parseLimitOptions({ 'no-limits': true, 'limit-private-subnets': true }), UsageError)
})

test('bad values and contradictory flags are usage errors', () => {
  assert.throws(() => parseLimitOptions({ 'conns-per-ip': '0' }), UsageError)
  assert.throws(() => parseLimitOptions({ 'conns-per-subnet': 'many' }), UsageError)
  assert.throws(() => parseLimitOptions({ 'no-limits': true, 'conns-per-ip': '3' }), UsageError)
})

test('a manager built from the flags refuses the third connection from one address, and not an allowlisted one', () => {
  const options = parseLimitOptions({ allow: ['192.0.2.0/24'], 'conns-per-ip': '2' })
  assert.notEqual(options, false)
  const rm = new ResourceManager(options as Exclude<typeof options, false>)
  const from = (ip: string) => multiaddr(`/ip4/${ip}/tcp/4001`)
  rm.openConnection('inbound', from('198.51.100.7'))
  rm.openConnection('inbound', from('198.51.100.7'))
  assert.throws(() => rm.openConnection('inbound', from('198.51.100.7')), (err: Error & { scope?: string, limit?: string }) => err.name === 'ResourceLimitError' && err.scope?.startsWith('ip:') === true && err.limit === 'conns')
  for (let i = 0; i < 3; i++) rm.openConnection('inbound', from('192.0.2.9'))
})
