#!/usr/bin/env bash
# `npm test`'s pretest step: the end-to-end tests drive real programs (curl, openssl, swaks, ssh and sshd,
# chromium for the dashboard, redis-server for the cluster, tinyproxy and nginx for the WebSocket
# transport and public ingress, pebble and caddy for ACME through the relay, dnsmasq and dig for UDP). On
# Debian, installs the missing ones (apt-get update once, then apt-get install -y) when run as root;
# otherwise prints the one command that installs them and stops, so no test fails later for a missing
# program. .ci/run calls it too.
set -euo pipefail

PACKAGES=(curl openssl swaks openssh-server openssh-client chromium fonts-dejavu-core redis-server tinyproxy nginx pebble caddy dnsmasq bind9-dnsutils)
# Elsewhere than Debian: the programs those packages bring, as the tests look for them.
PROGRAMS=(curl openssl swaks ssh sshd chromium redis-server tinyproxy nginx pebble pebble-challtestsrv caddy dnsmasq dig)

say() { echo "npm test: $*" >&2; }

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  missing=()
  for program in "${PROGRAMS[@]}"; do
    command -v "$program" >/dev/null 2>&1 || [ -x "/usr/sbin/$program" ] || [ -x "/usr/bin/$program" ] || missing+=("$program")
  done
  [ "${#missing[@]}" -eq 0 ] && exit 0
  say "the end-to-end tests need these programs, missing here: ${missing[*]}"
  say "install them with your system's package manager (Debian: ${PACKAGES[*]}), then run npm test again"
  exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

# Another apt run on this machine holds the lock for a while: wait for it rather than fail.
APT_OPTIONS=(-o DPkg::Lock::Timeout=300)
if [ "$(id -u)" -ne 0 ]; then
  say "the end-to-end tests need these Debian packages, missing here: ${missing[*]}"
  say "install them as root, then run npm test again:"
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

say "installing the Debian packages the end-to-end tests need: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get "${APT_OPTIONS[@]}" update >&2
apt-get "${APT_OPTIONS[@]}" install -y --no-install-recommends "${missing[@]}" >&2
say "installed ${missing[*]}"
