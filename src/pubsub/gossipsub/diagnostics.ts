/**
 * GossipSub's peers as diagnostic tools (the live dashboard) show them: topics, the meshes a
 * peer is in, its score and the score's parts. Built on demand, never on a message path.
 */
import type { PubSubPeerDiagnostics } from '../../interface/diagnostics.ts'
import type { PubSubPeer } from '../pubsub.ts'
import type { PeerScore } from './score.ts'

/** At most this many peers are described (the highest-scored first would need a sort of all: the first ones met are taken). */
const MAX_DESCRIBED = 500

export function describePeers (peers: Iterable<PubSubPeer>, mesh: ReadonlyMap<string, ReadonlySet<string>>, score: PeerScore | undefined): PubSubPeerDiagnostics[] {
  const out: PubSubPeerDiagnostics[] = []
  for (const peer of peers) {
    if (out.length >= MAX_DESCRIBED) break
    const meshTopics: string[] = []
    for (const [topic, members] of mesh) if (members.has(peer.key)) meshTopics.push(topic)
    const parts = score?.parts(peer.key)
    out.push({ peer: peer.key, topics: [...peer.topics], mesh: meshTopics, score: score?.score(peer.key) ?? 0, ...(parts === undefined ? {} : { parts }) })
  }
  return out
}
