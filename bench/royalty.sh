#!/usr/bin/env bash
# Royalty benchmark: a real origin (`edgenode serve`, release build) whose ledger holds ARTISTS artists (each a content
# with a split rule, payout settings, and the month's subscription pool), then through its control API:
# 1. report ingestion: NODES nodes' signed delivery reports holding VIEWS views in all (a tenth of the sessions served
#    by two nodes, half the media each: one view), POST /v1/reports/deliveries;
# 2. the month's close (POST /v1/views/{period}/close, pro_rata): tally, amounts, one transfer per content;
# 3. the month's payout run (POST /v1/payout-runs): one payout per artist, then the same run again (a no-op).
#
#   bench/royalty.sh [ARTISTS] [VIEWS] [NODES]    (default 100000 10000000 10)
set -euo pipefail
cd "$(dirname "$0")/.."
artists=${1:-100000} views=${2:-10000000} nodes=${3:-10}
swift build -c release --product edgenode >/dev/null
swift build -c release --product royalty-bench >/dev/null
bin=$(realpath .build/release/edgenode)
bench=$(realpath .build/release/royalty-bench)
work=bench/work/royalty
rm -rf "$work" && mkdir -p "$work/content" "$work/keys"
host=127.0.0.222 control=18301
month=$(date -u +%Y-%m)
cleanup() { kill "${origin_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
echo "disk: $(df -h "$work" | awk 'NR==2 { print $1 " (" $2 ")" }'), $(findmnt -no FSTYPE -T "$work"); $(nproc) cores"

"$bin" keygen --out "$work/origin" >/dev/null
cat > "$work/nodes.conf" <<CONF
[royalty]
tax_rates = "$(realpath royalty/tax-rates.csv)"
[[node]]
name = "origin-1"
role = "origin"
region = "bench"
latitude = 0
longitude = 0
http = "$host:18300"
content = "content"
control = "$host:$control"
ledger_db = "ledger/ledger.sqlite"
signing_key = "origin.key"
origin_key = "origin.pub"
CONF
for node in $(seq 0 $((nodes - 1))); do
  "$bin" keygen --out "$work/keys/edge-$node" --name "edge-$node" >/dev/null
  cat >> "$work/nodes.conf" <<CONF
[[node]]
name = "edge-$node"
role = "edge"
region = "bench"
latitude = 0
longitude = 0
http = "127.0.1.$((node + 1)):18300"
content = "cache-$node"
parents = ["origin-1"]
origin_key = "origin.pub"
report_key = "keys/edge-$node"
report_token = "keys/edge-$node.token"
CONF
done
echo "$artists" > "$work/keys/artists"
mkdir -p "$work/ledger"
"$bench" seed "$work/ledger/ledger.sqlite" "$artists" "$month"
"$bin" token create --config "$work/nodes.conf" --node origin-1 --scope admin --out "$work/admin.token" >/dev/null 2>&1
"$bin" serve --config "$work/nodes.conf" --node origin-1 --log-level warning > "$work/origin.log" 2>&1 &
origin_pid=$!
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://$host:$control/v1/checkpoint" && break
  sleep 0.1
done
"$bench" run "http://$host:$control" "$(cat "$work/admin.token")" "$work/keys" "$nodes" "$views" "$month"
echo "origin peak memory: $(grep VmHWM /proc/$origin_pid/status | awk '{ print $2 / 1024 " MiB" }')"
