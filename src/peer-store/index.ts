/** The peer store over a Datastore; see persistent-peer-store.ts for its semantics. */
export { PersistentPeerStore, peerKey, PEER_KEY_PREFIX } from './persistent-peer-store.ts'
export type { PersistentPeerStoreInit } from './persistent-peer-store.ts'
export {
  MAX_ADDRESSES_PER_PEER, MAX_PROTOCOLS_PER_PEER, MAX_PROTOCOL_LENGTH, MAX_METADATA_ENTRIES,
  MAX_METADATA_KEY_LENGTH, MAX_METADATA_VALUE_LENGTH, MAX_TAGS_PER_PEER, MAX_TAG_NAME_LENGTH
} from './stored-peer.ts'
