/**
 * The Python client of the libp2p daemon, PyPI's p2pclient 0.3.0, in a venv of the project's
 * (interop/python/.venv, dependencies pinned in requirements.txt): created on first use and
 * reused while requirements.txt is older than the venv's marker. Needs python3 with venv
 * (Debian: python3-venv); a cold install takes ~1 min.
 *
 * `node interop/python/setup.ts` creates it and prints the venv's python.
 */
import { execFile } from 'node:child_process'
import { mkdir, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const PYTHON_DIR = fileURLToPath(new URL('.', import.meta.url))
export const VENV_PYTHON = join(PYTHON_DIR, '.venv', 'bin', 'python')
const INSTALL_TIMEOUT_MS = 15 * 60_000

const preparing = new Map<string, Promise<string>>()

/** Creates the venv once per process; resolves with its python. */
export async function pythonClient (): Promise<string> {
  return await ensureVenv(PYTHON_DIR)
}

/**
 * A venv at DIR/.venv with DIR/requirements.txt installed, made once per process and reused
 * across runs while requirements.txt is older than the venv's marker. Resolves with its python.
 * Other Python programs of the project (interop/py-peer) keep their own venv the same way.
 */
export async function ensureVenv (dir: string): Promise<string> {
  let ready = preparing.get(dir)
  if (ready === undefined) {
    ready = prepare(dir).catch((err) => { preparing.delete(dir); throw err })
    preparing.set(dir, ready)
  }
  return await ready
}

async function prepare (dir: string): Promise<string> {
  const venv = join(dir, '.venv')
  const python = join(venv, 'bin', 'python')
  if (await isFresh(dir)) return python
  // Test files run in parallel processes: one installs, the others wait for its marker.
  const lock = join(dir, '.venv.lock')
  const deadline = Date.now() + INSTALL_TIMEOUT_MS
  for (;;) {
    try {
      await mkdir(lock)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    if (await isFresh(dir)) return python
    // a lock older than an install can take was left by a killed process
    if (Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs > INSTALL_TIMEOUT_MS) await rm(lock, { recursive: true, force: true })
    if (Date.now() > deadline) throw new Error(`another process has been installing ${venv} for too long`)
    await new Promise(resolve => setTimeout(resolve, 500))
  }
  try {
    if (await isFresh(dir)) return python
    await rm(venv, { recursive: true, force: true })
    await run('python3', ['-m', 'venv', venv], dir)
    await run(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '--no-input', '-r', 'requirements.txt'], dir)
    await writeFile(join(venv, 'installed'), new Date().toISOString())
    return python
  } finally {
    await rm(lock, { recursive: true, force: true })
  }
}

/** The venv's marker is newer than requirements.txt. */
async function isFresh (dir: string): Promise<boolean> {
  try {
    return (await stat(join(dir, '.venv', 'installed'))).mtimeMs >= (await stat(join(dir, 'requirements.txt'))).mtimeMs
  } catch {
    return false
  }
}

async function run (command: string, args: string[], cwd: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    execFile(command, args, { cwd, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err != null) reject(new Error(`${command} ${args.join(' ')} failed: ${err.message}\n${stderr}`))
      else resolve()
    })
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.stdout.write(`${await pythonClient()}\n`)
