#!/usr/bin/env bash
# Installs the Debian packages edgenode needs (only the missing ones), plus any extra package names given.
set -euo pipefail

packages=(libavformat-dev libavcodec-dev libavutil-dev libssl-dev libsqlite3-dev libmaxminddb-dev pkg-config ffmpeg python3 python3-venv "$@")
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "error: swift is not on PATH; edgenode needs the Swift 6 toolchain (https://www.swift.org/install/linux/)" >&2
  exit 1
fi
