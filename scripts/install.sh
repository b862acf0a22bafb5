#!/usr/bin/env bash
# make install: the release binary, the system user, the directories and the systemd unit (production layout in the
# README). DESTDIR=DIR stages everything under DIR instead (no user is created, nothing is chowned, systemd is not
# told): what a package build or a test does.
#   /usr/local/bin/edgenode                     the binary (PREFIX=/usr/local)
#   /etc/edgenode/nodes.conf                    the fleet; a sample is installed as nodes.conf.example
#   /etc/edgenode/node.env                      EDGENODE_NODE=<this host's node name>
#   /var/lib/edgenode/                          content or cache, keys, ledger (0700, user edgenode)
#   /etc/systemd/system/edgenode.service        the unit
#   /usr/local/share/doc/edgenode/README.md
set -euo pipefail
cd "$(dirname "$0")/.."

prefix="${PREFIX:-/usr/local}"
destdir="${DESTDIR:-}"
binary="${EDGENODE_BIN:-.build/release/edgenode}"
if [ ! -x "$binary" ]; then
  echo "error: $binary is missing: build it first (make install runs make release)" >&2
  exit 1
fi
if [ -z "$destdir" ] && [ "$(id -u)" -ne 0 ]; then
  echo "error: make install writes to /usr/local, /etc and /var/lib: run it as root (or stage it with DESTDIR=DIR)" >&2
  exit 1
fi

install -d -m 0755 "$destdir$prefix/bin" "$destdir$prefix/share/doc/edgenode" "$destdir/etc/systemd/system"
install -m 0755 "$binary" "$destdir$prefix/bin/edgenode"
install -m 0644 README.md "$destdir$prefix/share/doc/edgenode/README.md"
install -d -m 0750 "$destdir/etc/edgenode"
install -d -m 0700 "$destdir/var/lib/edgenode"
install -m 0640 nodes.conf "$destdir/etc/edgenode/nodes.conf.example"
if [ ! -e "$destdir/etc/edgenode/node.env" ]; then
  printf '# The node of /etc/edgenode/nodes.conf this host runs.\nEDGENODE_NODE=%s\n' "$(hostname -s)" > "$destdir/etc/edgenode/node.env"
  chmod 0640 "$destdir/etc/edgenode/node.env"
fi

unit="$destdir/etc/systemd/system/edgenode.service"
sed "s|/usr/local/bin/edgenode|$prefix/bin/edgenode|g" systemd/edgenode.service > "$unit.tmp"
# systemd 253 added Type=notify-reload: SIGHUP sent by systemd itself, the reload acknowledged by RELOADING=1/READY=1.
version="$(systemctl --version 2>/dev/null | awk 'NR == 1 { print $2 }')"
if [ -n "$version" ] && [ "$version" -ge 253 ] 2>/dev/null; then
  sed -i -e 's/^Type=notify$/Type=notify-reload/' -e '/^ExecReload=/d' "$unit.tmp"
fi
chmod 0644 "$unit.tmp"
mv "$unit.tmp" "$unit"

if [ -z "$destdir" ]; then
  if ! id edgenode >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/edgenode --no-create-home --shell /usr/sbin/nologin edgenode
  fi
  chown root:edgenode /etc/edgenode /etc/edgenode/nodes.conf.example /etc/edgenode/node.env
  chown edgenode:edgenode /var/lib/edgenode
  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
fi
echo "installed edgenode under ${destdir:-/}: edit /etc/edgenode/nodes.conf and node.env, then systemctl enable --now edgenode"
