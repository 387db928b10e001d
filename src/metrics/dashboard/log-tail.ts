/**
 * The dashboard's log tail: the latest lines of the namespaced debug logger, in a fixed-size
 * ring. It holds what the enabled namespaces write (DEBUG=...) and, whatever DEBUG says, every
 * `log.error` line (a failed dial, a refused stream, a protocol error): a user who opens the
 * dashboard without DEBUG still sees what went wrong, and nothing is printed that DEBUG did
 * not ask for. Lines are cut at MAX_LINE_CHARS (an error's stack can be long).
 */
import { tapLog } from '../../util/logger.ts'

const MAX_LINE_CHARS = 2000

export class LogTail {
  readonly #ring: string[]
  #next = 0
  #count = 0
  readonly #untap: () => void

  constructor (size = 200) {
    this.#ring = new Array<string>(Math.max(1, size)).fill('')
    this.#untap = tapLog(line => { this.#add(line) })
  }

  #add (line: string): void {
    this.#ring[this.#next] = line.length > MAX_LINE_CHARS ? line.slice(0, MAX_LINE_CHARS - 1) + '…' : line
    this.#next = (this.#next + 1) % this.#ring.length
    if (this.#count < this.#ring.length) this.#count++
  }

  /** Oldest first. */
  lines (): string[] {
    const out: string[] = []
    for (let i = this.#count; i > 0; i--) out.push(this.#ring[(this.#next - i + this.#ring.length) % this.#ring.length])
    return out
  }

  stop (): void { this.#untap() }
}
