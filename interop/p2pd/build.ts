/**
 * Builds the reference daemon, go-libp2p-daemon's p2pd at v0.9.2, and our Go p2pclient driver
 * (./go-client) from the Go module proxy into interop/p2pd/bin/ (the project's cache: a build is
 * skipped while the binaries are newer than go.mod, go.sum and the driver's sources).
 *
 * Why a module of our own: `go install …/p2pd@v0.9.2` fails because the proxy refuses the
 * module's version list (it asks for it to check deprecation); inside a module that requires
 * v0.9.2 (go.mod, go.sum pinned here) `go build` of the package works. Cold, with an empty module
 * cache, it takes ~1.5 min on 2 cores.
 *
 * `node interop/p2pd/build.ts` builds and prints the two paths.
 */
import { execFile } from 'node:child_process'
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const P2PD_DIR = fileURLToPath(new URL('.', import.meta.url))
export const P2PD_BIN = join(P2PD_DIR, 'bin', 'p2pd')
export const GO_CLIENT_BIN = join(P2PD_DIR, 'bin', 'go-client')
const BUILD_TIMEOUT_MS = 20 * 60_000

let building: Promise<{ p2pd: string, goClient: string }> | undefined

/** Builds once per process (concurrent callers share it); resolves with both binaries' paths. */
export async function buildP2pd (): Promise<{ p2pd: string, goClient: string }> {
  building ??= doBuild().catch((err) => { building = undefined; throw err })
  return await building
}

async function newestSource (): Promise<number> {
  let newest = 0
  for (const name of ['go.mod', 'go.sum']) newest = Math.max(newest, (await stat(join(P2PD_DIR, name))).mtimeMs)
  for (const name of await readdir(join(P2PD_DIR, 'go-client'))) {
    if (name.endsWith('.go')) newest = Math.max(newest, (await stat(join(P2PD_DIR, 'go-client', name))).mtimeMs)
  }
  return newest
}

async function upToDate (binary: string, newest: number): Promise<boolean> {
  try {
    return (await stat(binary)).mtimeMs >= newest
  } catch {
    return false
  }
}

async function doBuild (): Promise<{ p2pd: string, goClient: string }> {
  const newest = await newestSource()
  await mkdir(join(P2PD_DIR, 'bin'), { recursive: true })
  for (const [binary, pkg] of [[P2PD_BIN, 'github.com/libp2p/go-libp2p-daemon/p2pd'], [GO_CLIENT_BIN, './go-client']] as const) {
    if (await upToDate(binary, newest)) continue
    // each process builds to its own name and renames, so concurrent test files do not collide
    const tmp = `${binary}.tmp-${process.pid}-${Date.now()}`
    try {
      await goBuild(['build', '-mod=readonly', '-o', tmp, pkg])
      await rename(tmp, binary)
    } catch (err) {
      await rm(tmp, { force: true })
      throw err
    }
  }
  return { p2pd: P2PD_BIN, goClient: GO_CLIENT_BIN }
}

async function goBuild (args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    execFile('go', args, { cwd: P2PD_DIR, timeout: BUILD_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, GOFLAGS: '-buildvcs=false' } }, (err, _stdout, stderr) => {
      if (err != null) reject(new Error(`go ${args.join(' ')} failed: ${err.message}\n${stderr}`))
      else resolve()
    })
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { p2pd, goClient } = await buildP2pd()
  process.stdout.write(`${p2pd}\n${goClient}\n`)
}
