/**
 * The node:stream adapter TLS runs over: a write after the raw connection was reset (a remote
 * that hung up mid-handshake) is an 'error' on the Duplex, never an uncaught exception (it
 * crashed a WebSocket listener when `ts-libp2p doctor` hung up during a TLS probe).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { ByteStreamDuplex } from '../../../src/security/tls/byte-stream-duplex.node.ts'
import { duplexPair } from '../../../src/util/duplex-pair.ts'

test('a write after the remote reset the raw connection is an error event, not an uncaught exception', async () => {
  const [local, remote] = duplexPair()
  const duplex = new ByteStreamDuplex(local)
  remote.abort(new Error('remote hung up'))
  await new Promise(resolve => setImmediate(resolve))
  const uncaught: Error[] = []
  const onUncaught = (err: Error): void => { uncaught.push(err) }
  process.on('uncaughtException', onUncaught)
  try {
    const errored = once(duplex, 'error')
    duplex.write(new Uint8Array(16))
    const [err] = await errored as [Error]
    assert.equal(err.name, 'StreamResetError')
    // several queued chunks take the _writev path
    const second = new ByteStreamDuplex(local)
    const erroredAgain = once(second, 'error')
    second.cork()
    second.write(new Uint8Array(1))
    second.write(new Uint8Array(2))
    second.uncork()
    assert.equal(((await erroredAgain) as [Error])[0].name, 'StreamResetError')
    await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual(uncaught, [])
  } finally {
    process.off('uncaughtException', onUncaught)
  }
})
