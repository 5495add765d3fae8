#!/usr/bin/env bash
# Installs the Debian packages strom needs to build and test. Idempotent: silent and quick
# when everything is present. Run as root (or through sudo) on Debian 12.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libcmocka-dev libzstd-dev clang libclang-rt-14-dev python3
      libzmq3-dev libsodium-dev libzookeeper-mt-dev zookeeper iproute2)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root to install ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
