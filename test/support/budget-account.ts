/**
 * A MemoryAccount with a fixed budget, for the tests of what a muxer or transport reserves
 * from the connection's resource scopes: it counts what is held (and the peak), refuses past
 * the budget and counts the refusals, and fails a test that releases more than it reserved.
 */
import assert from 'node:assert/strict'
import type { MemoryAccount } from '../../src/interface/muxer.ts'

export class BudgetAccount implements MemoryAccount {
  reserved = 0
  peak = 0
  refusals = 0
  readonly budget: number

  constructor (budget: number) { this.budget = budget }

  reserve (bytes: number): boolean {
    if (this.reserved + bytes > this.budget) { this.refusals++; return false }
    this.reserved += bytes
    this.peak = Math.max(this.peak, this.reserved)
    return true
  }

  release (bytes: number): void {
    this.reserved -= bytes
    assert.ok(this.reserved >= 0, 'released more than was reserved')
  }
}
