import { mplex } from '../../src/muxer/mplex/index.ts'
import { muxerConformanceTests } from './conformance.ts'

const MAX_BUFFER = 1024 * 1024

muxerConformanceTests('mplex', (limits) => mplex({ maxStreamBufferSize: MAX_BUFFER, slowReaderTimeout: 60_000, ...limits })(), {
  // The buffer cap plus at most one chunk of the connection that arrived while over it.
  maxUnreadBytes: MAX_BUFFER + 256 * 1024
})
