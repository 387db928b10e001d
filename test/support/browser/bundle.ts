/**
 * Bundles a page's entry module for Chromium with esbuild, as an application would: platform
 * 'browser' (so package.json "imports" resolve to the *.browser.ts files through the 'default'
 * condition and the 'browser' condition is on), ESM, everything inlined. A Node built-in
 * anywhere in the graph fails the bundle with the importer named, instead of a page that
 * breaks at run time.
 */
import { build } from 'esbuild'
import type { Plugin } from 'esbuild'

export class BrowserBundleError extends Error {
  override name = 'BrowserBundleError' as const
  readonly code = 'ERR_BROWSER_BUNDLE'
}

export interface BundleOptions {
  /** Minify (for size measurements); off by default so page stack traces stay readable. */
  minify?: boolean
  /** Compile-time constants, as esbuild's `define` (values are JavaScript expressions). */
  define?: Record<string, string>
}

/** esbuild's list plus the `node:` scheme: none of these may appear in a browser graph. */
const NODE_BUILTIN = /^(node:|(assert|async_hooks|buffer|child_process|cluster|crypto|dgram|diagnostics_channel|dns|events|fs|http|http2|https|inspector|module|net|os|path|perf_hooks|process|querystring|readline|sqlite|stream|string_decoder|timers|tls|tty|url|util|v8|vm|worker_threads|zlib)(\/.*)?$)/

/** An esbuild plugin that fails on any Node built-in and lists who imported it. */
export function rejectNodeBuiltins (found: string[] = []): Plugin {
  return {
    name: 'reject-node-builtins',
    setup (b) {
      b.onResolve({ filter: NODE_BUILTIN }, args => {
        found.push(`${args.importer} imports ${args.path}`)
        return { errors: [{ text: `Node built-in "${args.path}" in a browser graph (imported by ${args.importer})` }] }
      })
    }
  }
}

const cache = new Map<string, Promise<string>>()

/** The bundled JavaScript of `entry` (an absolute path). Cached per process and options. */
export async function bundleForBrowser (entry: string, options: BundleOptions = {}): Promise<string> {
  const key = JSON.stringify([entry, options])
  let pending = cache.get(key)
  if (pending === undefined) {
    pending = bundle(entry, options)
    cache.set(key, pending)
    pending.catch(() => cache.delete(key))
  }
  return await pending
}

async function bundle (entry: string, options: BundleOptions): Promise<string> {
  try {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2023',
      minify: options.minify ?? false,
      sourcemap: options.minify === true ? false : 'inline',
      define: options.define,
      plugins: [rejectNodeBuiltins()],
      write: false,
      logLevel: 'silent'
    })
    return result.outputFiles[0].text
  } catch (err) {
    const errors = (err as { errors?: Array<{ text: string }> }).errors
    throw new BrowserBundleError(`bundling ${entry} for the browser failed: ${errors?.map(e => e.text).join('; ') ?? (err as Error).message}`)
  }
}
