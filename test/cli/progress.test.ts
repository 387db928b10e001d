/**
 * The progress display: a bar redrawn in place on a terminal, JSON lines (through the command)
 * when not, nothing left on the line after done(). The real terminal is tested end to end in
 * progress-tty.test.ts.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createProgress, formatBytes } from '../../src/cli/progress.ts'

function fakeStream (isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const stream = { isTTY, columns: 100, text: '', write (chunk: string) { stream.text += chunk; return true } }
  return stream as unknown as NodeJS.WriteStream & { text: string }
}

test('on a terminal: a bar with percentage, amounts and rate, redrawn with \\r and cleared by done()', () => {
  const stream = fakeStream(true)
  const progress = createProgress({ label: 'fetching', total: 4 * 1048576, unit: 'bytes', stream, rate: 1e6 })
  progress.update(1048576, 'bafy...')
  progress.update(2 * 1048576)
  progress.done()
  const frames = stream.text.split('\r').filter(f => f.length > 0)
  assert.match(frames[1], /^fetching \[######\.{18}\]  25% 1\.0 MiB\/4\.0 MiB [0-9.]+ [KMG]?i?B\/s bafy\.\.\.\u001b\[K$/)
  assert.match(frames[2], /\[#{12}\.{12}\]  50% 2\.0 MiB\/4\.0 MiB/)
  assert.equal(frames.at(-1), '\u001b[K', 'done() leaves an empty line')
})

test('without a total: a spinner and the count; setTotal switches to a bar', () => {
  const stream = fakeStream(true)
  const progress = createProgress({ label: 'probing', stream, rate: 1e6 })
  progress.update(3)
  assert.match(stream.text, /probing [|/\\-] 3/)
  progress.setTotal(6)
  progress.update(3)
  assert.match(stream.text, /probing \[#{12}\.{12}\]  50% 3\/6/)
  progress.done()
})

test('not a terminal: nothing written to the stream; JSON lines through onLine, the last on done()', () => {
  const stream = fakeStream(false)
  const lines: unknown[] = []
  const progress = createProgress({ label: 'fetching', total: 10, stream, onLine: line => lines.push(line) })
  progress.update(4)
  progress.update(10)
  progress.done()
  progress.done()
  assert.equal(stream.text, '')
  assert.deepEqual(lines[0], { type: 'progress', label: 'fetching', done: 0, total: 10 })
  assert.deepEqual(lines.at(-1), { type: 'progress', label: 'fetching', done: 10, total: 10 })
  assert.ok(lines.length <= 3, 'at most one line a second, plus the first and the last')
})

test('byte amounts are shown in binary units', () => {
  assert.deepEqual([formatBytes(512), formatBytes(1536), formatBytes(5 * 1048576), formatBytes(3 * 1073741824)], ['512 B', '1.5 KiB', '5.0 MiB', '3.00 GiB'])
})
