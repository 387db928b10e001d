/**
 * The public libp2p network's bootstrap peers: the `/dnsaddr/bootstrap.libp2p.io` names go-libp2p
 * and js-libp2p ship (only names, no literal IPs, so the operators can move the nodes). Each
 * resolves through `_dnsaddr.bootstrap.libp2p.io` TXT records to the addresses of that peer.
 * Node.js nodes and `ts-libp2p start` use it by default to join the Amino DHT, unless the
 * offline switch (util/offline.ts), `--offline`, `--bootstrap` or their own `services` say otherwise.
 */
export const PUBLIC_BOOTSTRAP_LIST: readonly string[] = Object.freeze([
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmQCU2EcMqAqQPR2i9bChDtGNJchTbq5TbXJJ16u19uLTa',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmcZf59bWwK5XFi76CZX8cbJ4BhTzzA3gU1ZjYZcYW3dwt'
])
