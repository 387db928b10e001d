import { yamux } from '../../src/muxer/yamux/index.ts'
import { muxerConformanceTests } from './conformance.ts'

// Keep-alive off so no timer outlives a test; windows start at the spec's 256 KiB.
muxerConformanceTests('yamux', (limits) => yamux({ keepAliveInterval: 0, ...limits })(), {
  // A non-reading receiver holds at most one window: it never grows without reads.
  maxUnreadBytes: 256 * 1024
})
