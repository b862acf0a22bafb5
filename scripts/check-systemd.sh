#!/usr/bin/env bash
# make test: the unit passes `systemd-analyze verify`, and `systemd-analyze security` rates it OK with an exposure of at
# most 2.0; `make install` staged under a temporary DESTDIR lays out what the README's production layout says.
set -euo pipefail
cd "$(dirname "$0")/.."

binary="$PWD/.build/debug/edgenode"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# verify checks that ExecStart's program exists: the unit is checked as installed with the built binary's path.
sed "s|/usr/local/bin/edgenode|$binary|g" systemd/edgenode.service > "$work/edgenode.service"
systemd-analyze verify "$work/edgenode.service"

report="$(systemd-analyze security --offline=true "$work/edgenode.service" 2>&1)"
overall="$(printf '%s\n' "$report" | grep 'Overall exposure level')"
exposure="$(printf '%s\n' "$overall" | sed -E 's/.*: ([0-9]+\.[0-9]+) ([A-Z]+).*/\1/')"
rating="$(printf '%s\n' "$overall" | sed -E 's/.*: ([0-9]+\.[0-9]+) ([A-Z]+).*/\2/')"
if ! awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' || [ "$rating" != "OK" ]; then
  printf '%s\n' "$report" | grep '✗' >&2
  echo "error: systemd/edgenode.service exposure $exposure $rating (at most 2.0 OK wanted)" >&2
  exit 1
fi
echo "systemd/edgenode.service: verify passed, exposure $exposure $rating"

EDGENODE_BIN="$binary" DESTDIR="$work/root" scripts/install.sh >/dev/null
for path in usr/local/bin/edgenode etc/systemd/system/edgenode.service etc/edgenode/nodes.conf.example etc/edgenode/node.env \
            usr/local/share/doc/edgenode/README.md; do
  [ -f "$work/root/$path" ] || { echo "error: make install did not install /$path" >&2; exit 1; }
done
[ "$(stat -c %a "$work/root/var/lib/edgenode")" = 700 ] || { echo "error: /var/lib/edgenode is not 0700" >&2; exit 1; }
[ "$(stat -c %a "$work/root/etc/edgenode")" = 750 ] || { echo "error: /etc/edgenode is not 0750" >&2; exit 1; }
"$work/root/usr/local/bin/edgenode" --version >/dev/null
sed "s|/usr/local/bin/edgenode|$work/root/usr/local/bin/edgenode|g" "$work/root/etc/systemd/system/edgenode.service" > "$work/installed.service"
systemd-analyze verify "$work/installed.service"
echo "make install (staged): layout and unit as documented"
