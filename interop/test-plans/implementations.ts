/**
 * The implementations of the interop matrix and what each claims, in the shape of test-plans'
 * versionsInput.json (id, transports, secureChannels, muxers), plus how to start its test app.
 *
 * ts is ts-libp2p's own test app (ts-libp2p.ts), the row we test; the others are our
 * line-contract peers behind line-peer.ts. Claims are what each peer program is built with:
 * - go: interop/go-peer (go-libp2p v0.51): no mplex (go-libp2p dropped it).
 * - js: interop/js-peer (js-libp2p 3.x, @chainsafe/libp2p-quic, @libp2p/webrtc): no
 *   WebTransport listener in Node.
 * - py: interop/py-peer (py-libp2p 0.8): TCP, WebSockets and QUIC v1 (py-libp2p picks its
 *   transports from the listen addresses), Noise and TLS, Yamux and Mplex.
 * - rust: interop/rust-peer (rust-libp2p 0.57; TCP, WebSockets, QUIC v1, Noise and TLS, Yamux
 *   and Mplex as its flags take them), once it is in the tree.
 */
import { existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ContractTransport } from './contract.ts'

export interface Implementation {
  id: string
  transports: ContractTransport[]
  secureChannels: Array<'noise' | 'tls'>
  muxers: Array<'yamux' | 'mplex'>
  /** argv of the test app (run with the contract's environment) */
  command: string[]
  /** why it cannot run here, if it cannot (the matrix marks its cells unavailable) */
  unavailable?: () => string | undefined
}

let cargo: boolean | undefined
const hasCargo = (): boolean => { cargo ??= spawnSync('cargo', ['--version']).status === 0; return cargo }

const HERE = fileURLToPath(new URL('.', import.meta.url))
const REPO = fileURLToPath(new URL('../../', import.meta.url))
const lineApp = (kind: string): string[] => [process.execPath, `${HERE}line-peer.ts`, kind]

export const IMPLEMENTATIONS: Implementation[] = [
  {
    id: 'ts',
    transports: ['tcp', 'ws', 'quic-v1', 'webtransport', 'webrtc-direct'],
    secureChannels: ['noise', 'tls'],
    muxers: ['yamux', 'mplex'],
    command: [process.execPath, `${HERE}ts-libp2p.ts`]
  },
  {
    id: 'js',
    transports: ['tcp', 'ws', 'quic-v1', 'webrtc-direct'],
    secureChannels: ['noise', 'tls'],
    muxers: ['yamux', 'mplex'],
    command: lineApp('js')
  },
  {
    id: 'go',
    transports: ['tcp', 'ws', 'quic-v1', 'webtransport', 'webrtc-direct'],
    secureChannels: ['noise', 'tls'],
    muxers: ['yamux'],
    command: lineApp('go')
  },
  {
    id: 'py',
    transports: ['tcp', 'ws', 'quic-v1'],
    secureChannels: ['noise', 'tls'],
    muxers: ['yamux', 'mplex'],
    command: lineApp('py'),
    unavailable: () => existsSync(`${REPO}interop/py-peer/peer.py`) ? undefined : 'interop/py-peer is not in this tree'
  },
  {
    id: 'rust',
    transports: ['tcp', 'ws', 'quic-v1'],
    secureChannels: ['noise', 'tls'],
    muxers: ['yamux', 'mplex'],
    command: lineApp('rust'),
    unavailable: () => !existsSync(`${REPO}interop/rust-peer/Cargo.toml`) ? 'interop/rust-peer is not in this tree' : hasCargo() ? undefined : 'no cargo toolchain to build interop/rust-peer'
  }
]
