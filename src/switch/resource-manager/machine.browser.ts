/** The machine the resource manager's defaults scale from, in browsers: `navigator.deviceMemory` (GiB, coarse) when offered. */
export function machineFacts (): { memory: number, fds: number } {
  const gib = (globalThis as { navigator?: { deviceMemory?: number } }).navigator?.deviceMemory
  return { memory: (typeof gib === 'number' && gib > 0 ? gib : 4) * 1024 * 1024 * 1024, fds: 1024 }
}
