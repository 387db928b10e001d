/** mocha entry: the whole @libp2p/interop suite against our daemon ('go') and js-libp2p ('js'). */
import { interopTests } from '@libp2p/interop'
import { factory } from './factory.ts'

await interopTests(factory)
