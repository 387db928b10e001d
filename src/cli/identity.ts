/**
 * The CLI's persistent identity: a PrivateKey protobuf in `<data dir>/identity.key`, created
 * (Ed25519, file mode 0600) the first time a command needs it, so a node restarted with the
 * same data directory keeps its peer id.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, type PrivateKey } from '../index.ts'

export const IDENTITY_FILE = 'identity.key'
/** A PrivateKey protobuf is a few hundred bytes even for RSA-4096; anything huge is not ours. */
const MAX_IDENTITY_FILE_SIZE = 16 * 1024

export async function loadOrCreateIdentity (dataDir: string): Promise<PrivateKey> {
  const file = join(dataDir, IDENTITY_FILE)
  let bytes: Uint8Array | undefined
  try {
    bytes = await readFile(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (bytes !== undefined) {
    if (bytes.length > MAX_IDENTITY_FILE_SIZE) throw new Error(`${file} is not an identity file (too large)`)
    try {
      return privateKeyFromProtobuf(new Uint8Array(bytes))
    } catch (err) {
      throw new Error(`${file} does not hold a valid private key: ${(err as Error).message}`, { cause: err })
    }
  }
  const key = await generateKeyPair('Ed25519')
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  // write-then-rename, so a crash never leaves a truncated key behind
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, key.toProtobuf(), { mode: 0o600, flag: 'wx' })
  await rename(tmp, file)
  return key
}
