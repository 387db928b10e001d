/**
 * Namespaced debug logging, off by default.
 *
 * Enable with the DEBUG environment variable (Node) or `localStorage.debug` (browsers), using
 * comma-separated patterns with `*` wildcards and `-` exclusions, e.g.
 * `DEBUG=ts-libp2p:*,-ts-libp2p:yamux*`. Disabled loggers cost one property check per call,
 * so hot paths may call them freely; guard expensive argument construction with `log.enabled`.
 */

import type { Logger } from '../interface/logger.ts'

const ROOT = 'ts-libp2p'

interface Pattern { re: RegExp, negate: boolean }

let patterns: Pattern[] = parsePatterns(readDebugSetting())

function readDebugSetting (): string {
  const g = globalThis as { process?: { env?: Record<string, string | undefined> }, localStorage?: { getItem(k: string): string | null } }
  try {
    return g.process?.env?.DEBUG ?? g.localStorage?.getItem('debug') ?? ''
  } catch {
    return ''
  }
}

function parsePatterns (setting: string): Pattern[] {
  return setting.split(/[\s,]+/).filter(s => s.length > 0).map(s => {
    const negate = s.startsWith('-')
    const body = (negate ? s.slice(1) : s).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*?')
    return { re: new RegExp(`^${body}$`), negate }
  })
}

function isEnabled (namespace: string): boolean {
  let enabled = false
  for (const p of patterns) {
    if (p.re.test(namespace)) {
      if (p.negate) return false
      enabled = true
    }
  }
  return enabled
}

/** Re-reads which namespaces are enabled; loggers created earlier follow the new setting. */
export function enableLogging (setting: string): void {
  patterns = parsePatterns(setting)
  generation++
}

let generation = 0

function format (value: unknown): string {
  if (value instanceof Uint8Array) {
    let hex = ''
    for (let i = 0; i < Math.min(value.length, 64); i++) hex += value[i].toString(16).padStart(2, '0')
    return value.length > 64 ? `${hex}…(${value.length} bytes)` : hex
  }
  if (value instanceof Error) return value.stack ?? value.message
  if (typeof value === 'object' && value !== null) {
    if (typeof (value as { toString?: unknown }).toString === 'function' && (value as object).toString !== Object.prototype.toString) return String(value)
    try { return JSON.stringify(value) } catch { return String(value) }
  }
  return String(value)
}

/** Receivers of log lines (the dashboard's log tail); usually none, then nothing is spent on them. */
const taps = new Set<(line: string) => void>()

/**
 * Delivers every line the enabled loggers write, and every `log.error` line even when its
 * namespace is not enabled (those are still not printed), to `tap` until the returned function
 * is called. Without a tap a disabled logger still costs one property check.
 */
export function tapLog (tap: (line: string) => void): () => void {
  taps.add(tap)
  return () => { taps.delete(tap) }
}

function write (namespace: string, formatter: string, args: unknown[], print = true): void {
  const line = formatLine(namespace, formatter, args)
  if (print) console.error(line)
  for (const tap of taps) tap(line)
}

function formatLine (namespace: string, formatter: string, args: unknown[]): string {
  let i = 0
  const text = formatter.replace(/%[sdoOjpbat%]/g, (m) => {
    if (m === '%%') return '%'
    return i < args.length ? format(args[i++]) : m
  })
  const rest = args.slice(i).map(format).join(' ')
  return `${new Date().toISOString()} ${namespace} ${text}${rest.length > 0 ? ' ' + rest : ''}`
}

/** Creates a logger for `ts-libp2p:<name>`. */
export function logger (name: string): Logger {
  const namespace = name.startsWith(ROOT) ? name : `${ROOT}:${name}`
  const make = (ns: string): Logger => {
    let cachedGeneration = -1
    let cached = false
    const check = (n: string): boolean => {
      if (cachedGeneration !== generation || n !== ns) {
        if (n !== ns) return isEnabled(n)
        cached = isEnabled(ns)
        cachedGeneration = generation
      }
      return cached
    }
    const log = ((formatter: string, ...args: unknown[]) => {
      if (check(ns)) write(ns, formatter, args)
    }) as Logger
    Object.defineProperty(log, 'enabled', { get: () => check(ns) })
    Object.defineProperty(log, 'namespace', { value: ns })
    Object.defineProperty(log, 'error', {
      value: (formatter: string, ...args: unknown[]) => {
        if (check(`${ns}:error`) || check(ns)) write(`${ns}:error`, formatter, args)
        else if (taps.size > 0) write(`${ns}:error`, formatter, args, false)
      }
    })
    Object.defineProperty(log, 'trace', {
      value: (formatter: string, ...args: unknown[]) => {
        if (check(`${ns}:trace`)) write(`${ns}:trace`, formatter, args)
      }
    })
    Object.defineProperty(log, 'extend', { value: (suffix: string) => make(`${ns}:${suffix}`) })
    return log
  }
  return make(namespace)
}
