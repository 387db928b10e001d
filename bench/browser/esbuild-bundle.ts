/** The one esbuild set-up bench:browser measures and --analyze takes apart: a browser bundle of an entry in entries/. */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import type { Metafile, OutputFile, Plugin } from 'esbuild'

const HERE = fileURLToPath(new URL('.', import.meta.url))
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** A browser bundle must not pull Node built-ins: the figure would be of a bundle that cannot run. */
const refuseNodeBuiltins: Plugin = {
  name: 'refuse-node-builtins',
  setup (b) {
    b.onResolve({ filter: /^node:/ }, args => ({ errors: [{ text: `Node built-in ${args.path} in a browser bundle (from ${args.importer})` }] }))
  }
}

export function entryFile (side: 'ts' | 'js'): string {
  return join(HERE, 'entries', side === 'ts' ? 'ts-libp2p.ts' : 'js-libp2p.ts')
}

export async function bundle (side: 'ts' | 'js', splitting: boolean): Promise<{ outputFiles: OutputFile[], metafile: Metafile }> {
  return await build({
    entryPoints: [entryFile(side)],
    ...(splitting ? { splitting: true, outdir: join(REPO_ROOT, '.cache', 'bench-browser', side) } : {}),
    absWorkingDir: REPO_ROOT,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    define: { 'process.env.NODE_ENV': '"production"' },
    metafile: true,
    write: false,
    logLevel: 'silent',
    plugins: [refuseNodeBuiltins]
  })
}
