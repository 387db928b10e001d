/** bench:nat's harness: flags, the summary of records and the markdown table (the lab run itself is `npm run bench:nat`). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseNatConfig, renderNatMarkdown, summarize } from '../../bench/nat/run.ts'

test('flags parse as documented, unknown kinds and sides are refused', () => {
  const config = parseNatConfig(['--attempts', '3', '--pairs', 'eim/edm,eim-rst/eim-rst', '--sides', 'ts', '--out', '/tmp/x'])
  assert.deepEqual([config.attempts, config.pairs, config.sides, config.outDir, config.delayMs], [3, [['eim', 'edm'], ['eim-rst', 'eim-rst']], ['ts'], '/tmp/x', 25])
  assert.deepEqual([parseNatConfig([]).attempts, parseNatConfig([]).transports, parseNatConfig([]).pairs.length], [20, ['tcp', 'quic'], 4])
  const quick = parseNatConfig(['--quick'])
  assert.deepEqual([quick.attempts, quick.pairs], [2, [['eim', 'eim']]])
  assert.deepEqual(parseNatConfig(['--transports', 'quic']).transports, ['quic'])
  assert.throws(() => parseNatConfig(['--transports', 'sctp']), /unknown transport/)
  assert.throws(() => parseNatConfig(['--pairs', 'eim/cone']), /unknown NAT kind/)
  assert.throws(() => parseNatConfig(['--sides', 'rust']), /unknown side/)
})

test('summary and table: success, first-attempt share and relayed-to-direct time', () => {
  const result = summarize('ts', 'quic', 'eim', 'eim', [
    { success: true, attempt: 1, ms: 500 },
    { success: true, attempt: 2, ms: 1500 },
    { success: false, attempt: 3, ms: 16000 }
  ])
  assert.deepEqual([result.attempts, result.successes, result.firstAttemptSuccesses, result.medianMs], [3, 2, 1, 500])  // nearest-rank median of [500, 1500]
  const markdown = renderNatMarkdown([result], parseNatConfig(['--attempts', '3']))
  assert.match(markdown, /\| ts \| quic \| eim \| eim \| 2\/3 \(67 %\) \| 50 % of successes \| 500 ms \|/)
})
