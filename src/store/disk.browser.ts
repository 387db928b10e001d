/**
 * The non-Node implementation behind `#store-disk`: there is no embedded on-disk datastore in
 * browsers yet, so asking for one fails clearly instead of silently forgetting everything.
 */
import type { Datastore } from '../interface/datastore.ts'
import { InvalidParametersError } from '../util/errors.ts'

export function openDiskDatastore (dir: string): Datastore {
  throw new InvalidParametersError(`no on-disk datastore in this runtime (asked for "${dir}"); pass a Datastore or omit the directory`)
}
