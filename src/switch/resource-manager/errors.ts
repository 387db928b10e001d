import { Libp2pError } from '../../util/errors.ts'

/** A resource scope refused a reservation; `scope` and `limit` name which one, as the message does. */
export class ResourceLimitError extends Libp2pError {
  static readonly code = 'ERR_RESOURCE_LIMIT_EXCEEDED'
  readonly scope: string
  readonly limit: string
  readonly value: number

  constructor (scope: string, limit: string, value: number) {
    super(`resource limit exceeded: ${scope} ${limit} (limit ${value})`, ResourceLimitError.code)
    this.name = 'ResourceLimitError'
    this.scope = scope
    this.limit = limit
    this.value = value
  }
}
