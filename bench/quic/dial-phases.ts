/**
 * Splits the CPU of QUIC dials by handshake phase, from the V8 profiles that
 * `bench/quic/profile-dial.ts --cpu-prof DIR` writes (one per peer process). Each sample goes to
 * the innermost frame of its stack that names a phase (the certificate checks, CertificateVerify,
 * X25519, the key schedule, packet protection, the UDP send, ...), or to "other" (start-up,
 * module loading, the bench's control channel). Printed per dial: pass the dial count the
 * profile covers (the warm-up's 20 dials plus `--count`).
 *
 *   node bench/quic/dial-phases.ts DIR_OR_FILE... --dials 620
 *
 * The profile samples wall time while the thread is busy, system calls included: on a loaded
 * machine a loopback `sendmsg` also runs the receiver's kernel path and is preempted by the woken
 * peer, so read the shares, and `profile-dial.ts`'s CPU per dial for the absolute figure.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string }
  children?: number[]
}

interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** Phase names and the frames (function name + script URL) that mark them, innermost first. */
const PHASES: Array<[string, RegExp]> = [
  ['certificate checks (self-signature, SignedKey, parse)', /^verifyCertificate |tls-certificate\.ts/],
  ['CertificateVerify check', /verifyCertificateVerify/],
  ['CertificateVerify signature', /signCertificateVerify/],
  ['X25519 key share + shared secret', /x25519Share|deriveSharedSecret|generateKeyShare/],
  ['key schedule (HKDF, key objects)', /hkdf|TrafficKeys|initialProtectors|key-schedule|hmac\.node/],
  ['packet protection (AEAD, header protection)', /packet-protection/],
  ['UDP send', /doSend|Socket\.send|endpoint\.ts/],
  ['UDP receive', /^onMessage node:dgram/],
  ['TLS messages', /tls-messages|tls-reader|handshake/],
  ['QUIC packets, frames, recovery', /transport\/quic\//],
  ['switch, upgrader, ping, peer store', /src\/(switch|protocols|node|peer|multistream|util)\//]
]
const OTHER = 'other (start-up, module loading, bench control)'

function argValue (name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? undefined : process.argv[i + 1]
}

async function profileFiles (paths: string[]): Promise<string[]> {
  const files: string[] = []
  for (const path of paths) {
    if ((await stat(path)).isDirectory()) {
      for (const name of (await readdir(path)).sort()) if (name.endsWith('.cpuprofile')) files.push(join(path, name))
    } else {
      files.push(path)
    }
  }
  return files
}

function phaseTimes (profile: Profile): Map<string, number> {
  const byId = new Map(profile.nodes.map(node => [node.id, node]))
  const parentOf = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id)
  const phaseOfNode = new Map<number, string | null>()
  const phaseOf = (id: number): string | null => {
    const known = phaseOfNode.get(id)
    if (known !== undefined) return known
    const { functionName, url } = byId.get(id)?.callFrame ?? { functionName: '', url: '' }
    let phase: string | null
    if (functionName === '(idle)') phase = null
    else if (functionName === '(garbage collector)') phase = 'garbage collection'
    else {
      const frame = `${functionName} ${url}`
      phase = PHASES.find(([, marker]) => marker.test(frame))?.[0] ?? (parentOf.has(id) ? phaseOf(parentOf.get(id) as number) : OTHER)
    }
    phaseOfNode.set(id, phase)
    return phase
  }
  const times = new Map<string, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const phase = phaseOf(profile.samples[i])
    if (phase !== null) times.set(phase, (times.get(phase) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  return times
}

const dials = Number(argValue('dials') ?? NaN)
const paths = process.argv.slice(2).filter((arg, i, all) => !arg.startsWith('--') && !all[i - 1]?.startsWith('--'))
if (!Number.isFinite(dials) || dials <= 0 || paths.length === 0) {
  process.stderr.write('usage: node bench/quic/dial-phases.ts DIR_OR_FILE... --dials N\n')
  process.exit(2)
}
for (const file of await profileFiles(paths)) {
  const times = phaseTimes(JSON.parse(await readFile(file, 'utf8')) as Profile)
  let total = 0
  for (const us of times.values()) total += us
  process.stdout.write(`## ${file}\n\n| ms per dial | share | phase |\n|---:|---:|---|\n`)
  for (const [phase, us] of [...times].sort((a, b) => b[1] - a[1])) {
    process.stdout.write(`| ${(us / 1000 / dials).toFixed(3)} | ${(100 * us / total).toFixed(1)} % | ${phase} |\n`)
  }
  process.stdout.write('\n')
}
