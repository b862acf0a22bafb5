#!/usr/bin/env bash
# The origin's peak memory while it ingests one delivery report at the size limit (issue 24): a real origin (debug
# build unless RELEASE=1) takes one signed report of SESSIONS sessions (default 4,000,000, the most a report may hold:
# ~170 MB of JSON, near the 256 MiB body limit) through POST /v1/reports/deliveries; its resident memory is sampled
# every 50 ms before and during ingestion (VmRSS) and its high-water mark read after (VmHWM).
#
#   bench/report-memory.sh [SESSIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
sessions=${1:-4000000}
config=debug
[ "${RELEASE:-0}" = 1 ] && config=release
swift build -c "$config" --product edgenode >/dev/null
swift build -c "$config" --product royalty-bench >/dev/null
bin=$(realpath .build/$config/edgenode)
bench=$(realpath .build/$config/royalty-bench)
work=bench/work/report-memory
rm -rf "$work" && mkdir -p "$work/content" "$work/ledger"
host=127.0.0.223 control=18303
cleanup() { kill "${origin_pid:-}" 2>/dev/null || true; kill "${sampler_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
"$bin" keygen --out "$work/origin" >/dev/null
"$bin" keygen --out "$work/edge-0" --name edge-0 >/dev/null
cat > "$work/nodes.conf" <<CONF
[[node]]
name = "origin-1"
role = "origin"
region = "bench"
latitude = 0
longitude = 0
http = "$host:18302"
content = "content"
control = "$host:$control"
ledger_db = "ledger/ledger.sqlite"
signing_key = "origin.key"
origin_key = "origin.pub"
[[node]]
name = "edge-0"
role = "edge"
region = "bench"
latitude = 0
longitude = 0
http = "127.0.2.1:18302"
content = "cache-0"
parents = ["origin-1"]
origin_key = "origin.pub"
report_key = "edge-0"
report_token = "edge-0.token"
CONF
"$bin" token create --config "$work/nodes.conf" --node origin-1 --scope node:edge-0 --out "$work/edge-0.token" >/dev/null 2>&1
"$bin" serve --config "$work/nodes.conf" --node origin-1 --log-level warning > "$work/origin.log" 2>&1 &
origin_pid=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://$host:$control/v1/checkpoint" && break; sleep 0.1; done
idle=$(awk '/VmRSS/ { print int($2 / 1024) }' /proc/$origin_pid/status)
( peak=0; while kill -0 $origin_pid 2>/dev/null; do
    rss=$(awk '/VmRSS/ { print int($2 / 1024) }' /proc/$origin_pid/status 2>/dev/null || echo 0)
    [ "$rss" -gt "$peak" ] && peak=$rss && echo "$peak" > "$work/peak"; sleep 0.05; done ) &
sampler_pid=$!
"$bench" report "http://$host:$control" "$(cat "$work/edge-0.token")" "$work/edge-0.key" edge-0 "$sessions"
sleep 0.5
echo "origin ($config): idle ${idle} MiB, peak while ingesting $(cat "$work/peak") MiB sampled, VmHWM $(awk '/VmHWM/ { print int($2 / 1024) }' /proc/$origin_pid/status) MiB"
