import { yamux as jsYamux } from '@chainsafe/libp2p-yamux'
import { yamux } from '../../../src/muxer/yamux/index.ts'
import { jsInteropTests } from './js-interop.ts'

jsInteropTests('yamux', () => yamux({ keepAliveInterval: 0 })(), () => jsYamux({ enableKeepAlive: false })())
