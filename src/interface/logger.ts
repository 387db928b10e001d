/** A namespaced debug logger (src/util/logger.ts makes them): off by default, cheap when off. */
export interface Logger {
  (formatter: string, ...args: unknown[]): void
  readonly enabled: boolean
  readonly namespace: string
  error(formatter: string, ...args: unknown[]): void
  trace(formatter: string, ...args: unknown[]): void
  /** A child logger with `:suffix` appended to the namespace. */
  extend(suffix: string): Logger
}
