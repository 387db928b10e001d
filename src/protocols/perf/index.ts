/** Perf (`/perf/1.0.0`, off by default): `import { perf } from 'ts-libp2p/perf'`, `services: { perf: perf() }`, then `node.services.perf.measurePerformance(...)`. */
export { perf, PerfService, type PerfOptions, type PerfOutput, type PerfComponents, type MeasurePerformanceOptions } from './perf.ts'
export { servePerf, type ServePerfOptions, type PerfServerResult } from './server.ts'
export { perfOverStream, type PerfCounters } from './client.ts'
export { PERF_PROTOCOL, PERF_BLOCK_SIZE, encodePerfRequest, decodePerfRequest } from './wire.ts'
