#!/usr/bin/env bash
# Puts promtool (Prometheus' checker for metrics, rules and rule tests) at out/tools/promtool, taken from Debian's
# prometheus package without installing it: installing the package would also start a Prometheus server on :9090.
set -euo pipefail
cd "$(dirname "$0")/.."

target=out/tools/promtool
if [ -x "$target" ]; then exit 0; fi
mkdir -p out/tools
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(
  cd "$work"
  if ! apt-get download prometheus >/dev/null 2>&1; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    apt-get download prometheus >/dev/null 2>&1
  fi
  dpkg-deb -x prometheus_*.deb extracted
)
install -m 0755 "$work/extracted/usr/bin/promtool" "$target"
"$target" --version | head -1
