export interface AbortOptions {
  signal?: AbortSignal
}

export type Direction = 'inbound' | 'outbound'
