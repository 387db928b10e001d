/**
 * mplex reserves receive buffer beyond its free 256 KiB from the connection's memory account
 * (the resource manager's scopes), in 256 KiB chunks, and gives it back when the stream ends;
 * a refused reservation means backpressure (the muxer stops reading), never a reset or loss.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mplex } from '../../src/muxer/mplex/index.ts'
import { FREE_BUFFER } from '../../src/muxer/mplex/stream.ts'
import { duplexPair } from '../../src/util/duplex-pair.ts'
import { Inbox, readAll, settle, testData } from './helpers.ts'
import { mplexFrame } from './raw-peer.ts'
import { BudgetAccount } from '../support/budget-account.ts'

const KiB = 1024
const NEW_STREAM = 0
const MESSAGE_INITIATOR = 2
const CLOSE_INITIATOR = 4
const RESET_INITIATOR = 6

function setup (account: BudgetAccount): { send: (b: Uint8Array) => void, inbox: Inbox, close: () => void } {
  const [mine, theirs] = duplexPair()
  const inbox = new Inbox()
  const muxer = mplex()().createStreamMuxer(mine, { direction: 'inbound', onIncomingStream: inbox.push, memory: account })
  return { send: (b) => { theirs.send(b) }, inbox, close: () => { muxer.abort(new Error('test done')) } }
}

function sendData (send: (b: Uint8Array) => void, data: Uint8Array): void {
  for (let offset = 0; offset < data.length; offset += 64 * KiB) send(mplexFrame(0, MESSAGE_INITIATOR, data.subarray(offset, offset + 64 * KiB)))
}

test('a stream buffering beyond the free 256 KiB reserves the rest in 256 KiB chunks; a reset gives it back', async () => {
  const account = new BudgetAccount(4 * 1024 * KiB)
  const { send, inbox, close } = setup(account)
  send(mplexFrame(0, NEW_STREAM, new TextEncoder().encode('0')))
  const stream = await inbox.next()
  sendData(send, testData(FREE_BUFFER))
  await settle()
  assert.equal(account.reserved, 0, 'the first 256 KiB are free')
  sendData(send, testData(300 * KiB))
  await settle()
  assert.equal(account.reserved, 512 * KiB, '300 KiB beyond the free part: two chunks')
  send(mplexFrame(0, RESET_INITIATOR))
  await settle()
  assert.equal(stream.status, 'reset')
  assert.equal(account.reserved, 0, 'released with the stream')
  close()
})

test('a refused reservation is backpressure: nothing is reset or lost, and nothing is held after the stream ends', async () => {
  const account = new BudgetAccount(0)
  const { send, inbox, close } = setup(account)
  send(mplexFrame(0, NEW_STREAM, new TextEncoder().encode('0')))
  const stream = await inbox.next()
  const data = testData(FREE_BUFFER + 512 * KiB)
  sendData(send, data)
  send(mplexFrame(0, CLOSE_INITIATOR))
  await settle()
  assert.ok(account.refusals > 0, 'the account refused')
  assert.equal(stream.status, 'open', 'not reset for want of memory')
  const received = await readAll(stream)
  assert.deepEqual(received, data, 'every byte arrives once the reader catches up')
  assert.equal(account.reserved, 0)
  close()
})
