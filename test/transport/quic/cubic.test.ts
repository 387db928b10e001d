/**
 * CUBIC's window function (RFC 9438) on its own: the reduction to β = 0.7, fast convergence,
 * the concave climb back to W_max by K seconds and the convex probe past it, and the
 * Reno-friendly floor.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Cubic } from '../../../src/transport/quic/cubic.ts'

const MSS = 1200

/** Feeds one window's worth of ACKs every RTT until `untilMs`; returns the window after each RTT. */
function climb (cubic: Cubic, cwnd: number, startMs: number, untilMs: number, rttMs: number): number[] {
  const windows: number[] = []
  for (let now = startMs; now <= untilMs; now += rttMs) {
    const packets = Math.floor(cwnd / MSS)
    for (let i = 0; i < packets; i++) cwnd = cubic.onAck(cwnd, MSS, MSS, now, rttMs)
    windows.push(cwnd)
  }
  return windows
}

test('cubic: a congestion event cuts the window to 0.7x, then it climbs back to W_max near K and probes past it', () => {
  const cubic = new Cubic()
  // A window and RTT where the cubic curve, not the Reno-friendly estimate, leads (4.3).
  const wMax = 1000 * MSS
  const reduced = cubic.onCongestionEvent(wMax, MSS, 2 * MSS)
  assert.equal(reduced, Math.floor(wMax * 0.7))
  // K = cbrt(W_max·(1 − β)/C) in segments: cbrt(1000·0.3/0.4) ≈ 9.1 s.
  const k = Math.cbrt(1000 * 0.3 / 0.4) * 1000
  const rtt = 100
  const windows = climb(cubic, reduced, 0, 2 * k, rtt)
  const atK = windows[Math.round(k / rtt) - 1]
  assert.ok(Math.abs(atK - wMax) < 0.1 * wMax, `window at K ${atK} is near W_max ${wMax}`)
  // Concave below W_max: the first half of the climb gains more than the second.
  const quarter = windows[Math.round(k / rtt / 4)]
  const half = windows[Math.round(k / rtt / 2)]
  assert.ok(quarter - reduced > half - quarter, 'growth slows as the window nears W_max')
  // Convex past it: the window keeps growing, faster than it did around K.
  const end = windows[windows.length - 1]
  assert.ok(end > 1.2 * wMax, `probes past W_max: ${end}`)
  for (let i = 1; i < windows.length; i++) assert.ok(windows[i] >= windows[i - 1], 'never shrinks on ACKs')
})

test('cubic: fast convergence lowers W_max when losses come before the window got back', () => {
  const cubic = new Cubic()
  const first = cubic.onCongestionEvent(1000 * MSS, MSS, 2 * MSS)
  // A second loss at a window below the previous W_max: W_max becomes cwnd·(1 + β)/2.
  const second = cubic.onCongestionEvent(first, MSS, 2 * MSS)
  assert.equal(second, Math.floor(first * 0.7))
  const windows = climb(cubic, second, 0, 20_000, 100)
  // The plateau now sits near first·0.85, not at 1000 segments.
  const plateau = first * 0.85
  const kMs = Math.cbrt((plateau - second) / MSS / 0.4) * 1000
  const atK = windows[Math.round(kMs / 100) - 1]
  assert.ok(Math.abs(atK - plateau) < 0.1 * plateau, `window at K ${atK}, plateau ${plateau}`)
  assert.ok(atK < 0.9 * 1000 * MSS, 'well below the first W_max')
})

test('cubic: the window never falls below the minimum, and the Reno-friendly estimate bounds it from below', () => {
  const cubic = new Cubic()
  assert.equal(cubic.onCongestionEvent(2 * MSS, MSS, 2 * MSS), 2 * MSS)
  // With a tiny W_max and a long RTT the cubic curve is flat; the Reno-friendly term still grows.
  const start = 10 * MSS
  const c2 = new Cubic()
  const reduced = c2.onCongestionEvent(start, MSS, 2 * MSS)
  const windows = climb(c2, reduced, 0, 2000, 500)
  assert.ok(windows[windows.length - 1] > reduced)
})
