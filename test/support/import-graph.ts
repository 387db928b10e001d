/**
 * The static import graph of the package's sources, as the architecture and browser-safety
 * tests read it: `import`/`export ... from`, `import type`, bare `import '...'` and dynamic
 * `import('...')` specifiers; `#name` package imports resolve through package.json "imports"
 * under one condition ('node' or the browser 'default').
 */
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

type PackageImports = Record<string, Record<string, string>>
const packageImports = (JSON.parse(readFileSync(resolve(repoRoot, 'package.json'), 'utf8')) as { imports: PackageImports }).imports

/**
 * An import or export clause holds names, braces, commas, `*`, `as` and `type` only: no quote,
 * `=`, `:`, `(`, `)` or `;`. Excluding them keeps a match from starting at an earlier
 * `export type X = ...` or `export interface` and spanning into the next import (which would
 * mark a value import type-only). Specifiers may use either quote.
 */
const SPECIFIER = /(?:^|[\s;}])(?:import|export)\s[^'"=:();]*?from\s+(['"])([^'"]+)\1|(?:^|[\s;])import\s+(['"])([^'"]+)\3|import\(\s*(['"])([^'"]+)\5\s*\)/gm

/** `import(` followed by anything but a string literal: a dynamic import no reader can follow. */
const COMPUTED_IMPORT = /\bimport\(\s*(?!['"])/g

export type Condition = 'node' | 'default'

export interface ImportEdge {
  /** The importing file, absolute. */
  from: string
  /** The specifier as written. */
  specifier: string
  /** The absolute file it resolves to; undefined for a bare (package or built-in) specifier. */
  to?: string
  /** A dynamic `import()`, loaded only when that code runs. */
  dynamic: boolean
  /** `import type` / `export type`: erased, loads nothing. */
  typeOnly: boolean
}

/** Every import of one source file; `#name` specifiers resolve under `condition`. */
export function importsOf (file: string, condition: Condition, text = readFileSync(file, 'utf8')): ImportEdge[] {
  const edges: ImportEdge[] = []
  if (COMPUTED_IMPORT.test(text)) {
    COMPUTED_IMPORT.lastIndex = 0
    throw new Error(`${file}: a dynamic import() of a computed specifier; the import graph can only follow string literals`)
  }
  for (const match of text.matchAll(SPECIFIER)) {
    const specifier = match[2] ?? match[4] ?? match[6]
    const dynamic = match[6] !== undefined
    const typeOnly = /^[\s;}]*(?:import|export)\s+type\s/.test(match[0])
    if (specifier.startsWith('.')) edges.push({ from: file, specifier, to: resolve(dirname(file), specifier), dynamic, typeOnly })
    else if (specifier.startsWith('#')) {
      const target = packageImports[specifier]?.[condition] ?? packageImports[specifier]?.default
      if (target === undefined) throw new Error(`${file}: unknown package import ${specifier}`)
      edges.push({ from: file, specifier, to: resolve(repoRoot, target), dynamic, typeOnly })
    } else edges.push({ from: file, specifier, dynamic, typeOnly })
  }
  return edges
}

/**
 * Every source file reachable from `entry` (repo-relative), and every bare specifier met.
 * With `staticOnly`, dynamic `import()`s and type-only imports are not followed: what
 * loading `entry` loads.
 */
export function reachableFrom (entry: string, condition: Condition, staticOnly = false): { files: Set<string>, bare: Set<string> } {
  const files = new Set<string>()
  const bare = new Set<string>()
  const queue = [resolve(repoRoot, entry)]
  while (queue.length > 0) {
    const file = queue.pop()!
    if (files.has(file)) continue
    files.add(file)
    for (const edge of importsOf(file, condition)) {
      if (staticOnly && (edge.dynamic || edge.typeOnly)) continue
      if (edge.to !== undefined) queue.push(edge.to)
      else bare.add(edge.specifier)
    }
  }
  return { files, bare }
}

const NODE_BUILTINS = new Set(['net', 'fs', 'crypto', 'os', 'path', 'dgram', 'tls', 'http', 'https', 'dns', 'child_process', 'worker_threads', 'stream', 'buffer', 'events', 'url', 'util'])

/** True for a specifier only Node can load: `node:*`, a bare built-in name, or `ws`. */
export function isNodeOnlySpecifier (specifier: string): boolean {
  return specifier.startsWith('node:') || NODE_BUILTINS.has(specifier) || specifier === 'ws'
}
