#!/usr/bin/env bash
# Installs the Debian packages the test labs need, only those missing. CI runs as root on a fresh
# machine and calls this before `npm test`; the NAT lab (test/support/lab/) also calls it itself
# when a command is missing and it runs as root.
# One line per package: "<command that proves it is installed> <debian package>". Add yours below.
# With arguments (`install-system-packages.sh chromium`), only those packages of the list are
# considered: the Chromium harness (test/support/browser/) asks for its one package.
set -euo pipefail
# The port-mapping lab's miniupnpd, nft, upnpc and natpmpc are extracted into .cache/lab, not
# installed (installing would start a miniupnpd service on the host): see fetch-miniupnpd.sh.
if [ "$(id -u)" = 0 ]; then
  bash "$(dirname "$0")/fetch-miniupnpd.sh" || echo "install-system-packages: fetching miniupnpd for the port-mapping lab failed" >&2
fi
PACKAGES="
iptables iptables
conntrack conntrack
ethtool ethtool
python3 python3
dnsmasq dnsmasq-base
chromium chromium
script bsdutils
redis-server redis-server
prometheus prometheus
valgrind valgrind
"
missing=()
while read -r command package; do
  [ -z "${command:-}" ] && continue
  if [ $# -gt 0 ] && [[ " $* " != *" $package "* ]]; then continue; fi
  command -v "$command" >/dev/null 2>&1 || [ -x "/usr/sbin/$command" ] || [ -x "/sbin/$command" ] || missing+=("$package")
done <<< "$PACKAGES"
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-system-packages: missing ${missing[*]} and not root; install them with apt-get" >&2
  exit 1
fi
echo "install-system-packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
  apt-get update >/dev/null 2>&1
  apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
}
