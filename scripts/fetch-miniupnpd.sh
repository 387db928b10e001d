#!/usr/bin/env bash
# Fetches Debian's miniupnpd (nftables build), nft, upnpc and natpmpc for the port-mapping lab
# tests, WITHOUT installing them: `apt-get download` + `dpkg-deb -x` into a project-local cache
# (default .cache/lab/miniupnpd), so no service starts on the host. The tests run the binaries
# from there with LD_LIBRARY_PATH, inside network namespaces they build. Idempotent.
# Usage: scripts/fetch-miniupnpd.sh [CACHE_DIR]
set -euo pipefail
CACHE="${1:-$(cd "$(dirname "$0")/.." && pwd)/.cache/lab/miniupnpd}"
ROOT="$CACHE/root"
[ -x "$ROOT/usr/sbin/miniupnpd" ] && [ -x "$ROOT/usr/sbin/nft" ] && [ -x "$ROOT/usr/bin/upnpc" ] && [ -x "$ROOT/usr/bin/natpmpc" ] && exit 0
command -v apt-get >/dev/null 2>&1 || { echo "fetch-miniupnpd: apt-get is missing (not Debian?)" >&2; exit 1; }
# The daemon, its netlink libraries, nft (to create the table miniupnpd fills) with its
# libraries, and the two client tools the tests use to read the router's table.
PACKAGES="miniupnpd-nftables libmnl0 libnftnl11 nftables libnftables1 libjansson4 libxtables12 libedit2 libgmp10 libbsd0 libmd0 miniupnpc libminiupnpc17 natpmpc libnatpmp1"
mkdir -p "$CACHE/debs" "$ROOT"
cd "$CACHE/debs"
# apt's sandbox user cannot write here; downloading as root is what we want for a cache.
if ! apt-get download -o APT::Sandbox::User=root $PACKAGES >/dev/null 2>&1; then
  apt-get update >/dev/null 2>&1 || true
  apt-get download -o APT::Sandbox::User=root $PACKAGES >/dev/null
fi
for deb in *.deb; do dpkg-deb -x "$deb" "$ROOT"; done
[ -x "$ROOT/usr/sbin/miniupnpd" ] && [ -x "$ROOT/usr/sbin/nft" ] || { echo "fetch-miniupnpd: extraction did not produce the binaries" >&2; exit 1; }
