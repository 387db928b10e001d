/**
 * The test-plans perf contract's command line (perf/README.md in libp2p/test-plans), as the
 * executables we run under it read it: perf-peer.ts (a line-contract peer behind it) and js-perf.ts
 * (js-libp2p in one process). One reading, so both refuse the same bad arguments the same way.
 */
import { parseArgs } from 'node:util'

export interface PerfArgs {
  family: 'ip4' | 'ip6'
  host: string
  port: number
  /** Present for a client; undefined for `--run-server`. */
  client?: { transport: 'tcp' | 'quic-v1', uploadBytes: number, downloadBytes: number }
}

/** `HOST:PORT` or `[HOST]:PORT`. */
function hostPort (text: string): { family: 'ip4' | 'ip6', host: string, port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text)
  if (match === null || Number(match[3]) > 65535) throw new Error(`--server-address must be HOST:PORT, got '${text}'`)
  return { family: match[1] !== undefined ? 'ip6' : 'ip4', host: match[1] ?? match[2], port: Number(match[3]) }
}

export function parsePerfArgs (args: string[]): PerfArgs {
  const { values } = parseArgs({
    args,
    options: {
      'run-server': { type: 'boolean', default: false },
      'server-address': { type: 'string' },
      transport: { type: 'string', default: 'tcp' },
      'upload-bytes': { type: 'string', default: '0' },
      'download-bytes': { type: 'string', default: '0' }
    }
  })
  if (values['server-address'] === undefined) throw new Error('--server-address HOST:PORT is required')
  const address = hostPort(values['server-address'])
  if (values['run-server']) return address
  const transport = values.transport
  if (transport !== 'tcp' && transport !== 'quic-v1') throw new Error(`--transport must be tcp or quic-v1, got '${transport}'`)
  const uploadBytes = Number(values['upload-bytes'])
  const downloadBytes = Number(values['download-bytes'])
  if (!Number.isSafeInteger(uploadBytes) || uploadBytes < 0 || !Number.isSafeInteger(downloadBytes) || downloadBytes < 0) throw new Error('--upload-bytes and --download-bytes must be integers >= 0')
  return { ...address, client: { transport, uploadBytes, downloadBytes } }
}
