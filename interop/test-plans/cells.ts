/**
 * The cells of the matrix, generated the way test-plans' generator does it
 * (transport-interop/src/generator.ts): for a dialer and a listener that share a transport,
 * every security channel and muxer both support, named `D x L (transport, security, muxer)`;
 * transports with their own security and muxing get one cell, `D x L (transport)`. Ours keeps
 * the cells neither side can run as `unsupported`, so the table shows them, and only pairs
 * with ts-libp2p on one side.
 */
import { CONTRACT_TRANSPORTS, STANDALONE_TRANSPORTS, type ContractTransport } from './contract.ts'
import type { Implementation } from './implementations.ts'

export interface Cell {
  name: string
  dialer: string
  listener: string
  transport: ContractTransport
  security?: 'noise' | 'tls'
  muxer?: 'yamux' | 'mplex'
  /** why the cell is not run: one side does not claim the combination */
  unsupported?: string
}

const SECURITY = ['noise', 'tls'] as const
const MUXERS = ['yamux', 'mplex'] as const

export function cellName (dialer: string, listener: string, transport: string, security?: string, muxer?: string): string {
  return security === undefined ? `${dialer} x ${listener} (${transport})` : `${dialer} x ${listener} (${transport}, ${security}, ${muxer})`
}

/** Every cell with `ours` on at least one side, both roles, supported or not. */
export function generateCells (impls: Implementation[], ours = 'ts'): Cell[] {
  const cells: Cell[] = []
  const self = impls.find(i => i.id === ours)
  if (self === undefined) throw new Error(`no implementation ${ours}`)
  const pairs: Array<[Implementation, Implementation]> = []
  for (const other of impls) {
    pairs.push([self, other])
    if (other !== self) pairs.push([other, self])
  }
  for (const [dialer, listener] of pairs) {
    for (const transport of CONTRACT_TRANSPORTS) {
      const missing = [dialer, listener].filter(i => !i.transports.includes(transport)).map(i => i.id)
      if (STANDALONE_TRANSPORTS.has(transport)) {
        cells.push({ name: cellName(dialer.id, listener.id, transport), dialer: dialer.id, listener: listener.id, transport, unsupported: missing.length > 0 ? `${missing.join(' and ')}: no ${transport}` : undefined })
        continue
      }
      for (const security of SECURITY) {
        for (const muxer of MUXERS) {
          const lacking: string[] = []
          for (const impl of [dialer, listener]) {
            if (!impl.transports.includes(transport)) lacking.push(`${impl.id}: no ${transport}`)
            else if (!impl.secureChannels.includes(security)) lacking.push(`${impl.id}: no ${security}`)
            else if (!impl.muxers.includes(muxer)) lacking.push(`${impl.id}: no ${muxer}`)
          }
          cells.push({ name: cellName(dialer.id, listener.id, transport, security, muxer), dialer: dialer.id, listener: listener.id, transport, security, muxer, unsupported: lacking.length > 0 ? [...new Set(lacking)].join(', ') : undefined })
        }
      }
    }
  }
  return cells
}

/** test-plans' --name-filter / --name-ignore: substring matches on the cell name. */
export function selectCells (cells: Cell[], filters: string[], ignores: string[]): Cell[] {
  return cells.filter(c => (filters.length === 0 || filters.some(f => c.name.includes(f))) && !ignores.some(i => c.name.includes(i)))
}

/**
 * The reduced matrix: one supported cell per implementation pair and transport, ts dialing
 * on even-numbered transports and listening on odd ones, so both roles are covered.
 */
export function reducedCells (cells: Cell[], ours = 'ts'): Cell[] {
  const chosen = new Map<string, Cell>()
  for (const cell of cells) {
    if (cell.unsupported !== undefined) continue
    const other = cell.dialer === ours ? cell.listener : cell.dialer
    const key = `${other}/${cell.transport}`
    const wantOursDialing = CONTRACT_TRANSPORTS.indexOf(cell.transport) % 2 === 0
    const existing = chosen.get(key)
    const fits = (c: Cell): boolean => (c.dialer === ours) === wantOursDialing
    if (existing === undefined || (!fits(existing) && fits(cell))) chosen.set(key, cell)
  }
  return [...chosen.values()]
}
