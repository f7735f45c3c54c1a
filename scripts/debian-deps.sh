#!/usr/bin/env bash
# Installs the Debian packages the test suite runs for real, when missing:
#   python3-grpcio  gRPC C-core (1.51 on Debian 12), the third xDS client family
#   mariadb-server  real MySQL for the tablet agent's tests
#   chromium        the admin status page's browser test
# (The multi-member etcd tests build etcd's server from go.mod's version:
# Debian's etcd-server is too old for our client; internal/etcdcluster.)
# `make test` runs it; it does nothing when every package is present.
set -euo pipefail
packages=(python3-grpcio mariadb-server chromium)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
