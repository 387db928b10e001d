/**
 * The Python client of the libp2p daemon, PyPI's p2pclient 0.3.0, in a venv of the project's
 * (interop/python/.venv, dependencies pinned in requirements.txt): created on first use and
 * reused while requirements.txt is older than the venv's marker. Needs python3 with venv
 * (Debian: python3-venv); a cold install takes ~1 min.
 *
 * `node interop/python/setup.ts` creates it and prints the venv's python.
 */
import { execFile } from 'node:child_process'
import { rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const PYTHON_DIR = fileURLToPath(new URL('.', import.meta.url))
const VENV = join(PYTHON_DIR, '.venv')
export const VENV_PYTHON = join(VENV, 'bin', 'python')
const MARKER = join(VENV, 'installed')
const REQUIREMENTS = join(PYTHON_DIR, 'requirements.txt')
const INSTALL_TIMEOUT_MS = 15 * 60_000

let preparing: Promise<string> | undefined

/** Creates the venv once per process; resolves with its python. */
export async function pythonClient (): Promise<string> {
  preparing ??= prepare().catch((err) => { preparing = undefined; throw err })
  return await preparing
}

async function prepare (): Promise<string> {
  try {
    if ((await stat(MARKER)).mtimeMs >= (await stat(REQUIREMENTS)).mtimeMs) return VENV_PYTHON
  } catch {
    // not installed yet
  }
  await rm(VENV, { recursive: true, force: true })
  await run('python3', ['-m', 'venv', VENV])
  await run(join(VENV, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '--no-input', '-r', REQUIREMENTS])
  await writeFile(MARKER, new Date().toISOString())
  return VENV_PYTHON
}

async function run (command: string, args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    execFile(command, args, { cwd: PYTHON_DIR, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err != null) reject(new Error(`${command} ${args.join(' ')} failed: ${err.message}\n${stderr}`))
      else resolve()
    })
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.stdout.write(`${await pythonClient()}\n`)
