/** The DHT options of `ts-libp2p start`: `--dht server|client` and `--provide CID...`. */
import { UsageError } from '../args.ts'
import type { KadDHT } from '../../dht/index.ts'
import { parseCid } from './dht.ts'
import { unrefInterval } from '../../util/timers.ts'

/** The DHT mode from `--dht`; `--provide` needs one. Throws UsageError on bad input. */
export function parseDhtMode (mode: string | undefined, provide: string[] | undefined): 'server' | 'client' | undefined {
  if (mode !== undefined && mode !== 'server' && mode !== 'client') throw new UsageError(`--dht must be server or client, got '${mode}'`)
  if (mode === undefined && (provide ?? []).length > 0) throw new UsageError('--provide needs --dht server|client')
  for (const cid of provide ?? []) parseCid(cid)
  return mode
}

/**
 * Provides each CID once the node has a DHT peer (bootstrap peers connect after start),
 * printing `{"provided":CID,"accepted":N}` per CID, or a line on stderr if providing failed.
 */
export function provideOnceJoined (dht: unknown, cids: string[]): void {
  if (cids.length === 0 || dht === undefined) return
  const service = dht as KadDHT
  const timer = unrefInterval(() => {
    if (service.routingTable.size === 0) return
    clearInterval(timer)
    void (async () => {
      await service.refreshRoutingTable().catch(() => {})
      for (const text of cids) {
        try {
          const accepted = await service.provide(parseCid(text))
          process.stdout.write(JSON.stringify({ provided: text, accepted }) + '\n')
        } catch (err) {
          process.stderr.write(`ts-libp2p: providing ${text} failed: ${(err as Error).message}\n`)
        }
      }
    })()
  }, 100)
}
