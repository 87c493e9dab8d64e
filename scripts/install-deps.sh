#!/usr/bin/env bash
# Installs every Debian package and npm package wslb needs to build, demo and test.
# Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake pkg-config git ccache clang libclang-rt-14-dev
  libboost1.81-dev libssl-dev libyaml-cpp-dev libyaml-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev liburing-dev
  libspdlog-dev libfmt-dev libcli11-dev
  libgrpc++-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  python3 python3-websockets curl openssl
  chromium
  prometheus haproxy nginx-light
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node.js with npm: the machine may carry its own build (which bundles npm); add Debian's only if absent.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  # prometheus, haproxy and nginx are run by the tests and benchmarks themselves, on loopback
  # ports of their own; keep their packages from starting system services while installing.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
    trap '$SUDO rm -f "$policy"' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [ -n "$(trap -p EXIT)" ]; then
    $SUDO rm -f "$policy"
    trap - EXIT
  fi
fi

# Node peers for tests (node `ws`, the gRPC xDS control plane, puppeteer-core for the live
# page in Debian's chromium), pinned in
# tests/peers/package.json. Installs again when any of them is missing or at another version.
peers_installed() {
  node -e '
    const deps = require("./tests/peers/package.json").dependencies || {};
    for (const [name, version] of Object.entries(deps)) {
      if (require(`./tests/peers/node_modules/${name}/package.json`).version !== version) {
        process.exit(1);
      }
    }' 2>/dev/null
}
if [ -f tests/peers/package.json ]; then
  if ! peers_installed; then
    echo "install-deps: npm install in tests/peers"
    (cd tests/peers && npm install --no-audit --no-fund --loglevel=error)
  fi
fi
