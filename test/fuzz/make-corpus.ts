/**
 * Writes the seed corpus (test/fuzz/corpus/<target>.json) from targets.ts's seeds(): run after
 * a format changes (`node test/fuzz/make-corpus.ts`) and commit the result.
 */
import { writeFileSync } from 'node:fs'
import { CORPUS_DIR, toHex } from './engine.ts'
import { seeds } from './targets.ts'

for (const [name, list] of Object.entries(await seeds())) {
  writeFileSync(`${CORPUS_DIR}${name}.json`, JSON.stringify(list.map(toHex), null, 1) + '\n')
}
