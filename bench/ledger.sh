#!/usr/bin/env bash
# Ledger benchmark (on the disk under bench/work — never tmpfs — WAL + synchronous=FULL throughout).
# 1. Durable transfers/s through the core with group commit (64 and 512 concurrent submitters), each followed by raw
#    batched SQLite inserts of rows as large as a ledger entry, batches as large as group commit's, same disk, 3 rounds.
# 2. Durable transfers/s through the control API: `edgenode serve` origin, wrk POSTing fresh transfers on 64
#    connections for DURATION seconds; every 201 was acknowledged only after its batch was durable.
# 3. Proof latency at 10^6 entries: inclusion and consistency proofs generated and verified in process, then through
#    the API (wrk, 1 and 8 connections).
#
#   bench/ledger.sh [DURATION]    (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
scripts/install-deps.sh wrk curl >/dev/null
swift build -c release --product edgenode >/dev/null
swift build -c release --product ledger-bench >/dev/null
bin=$(realpath .build/release/edgenode)
bench=$(realpath .build/release/ledger-bench)
work=bench/work/ledger
rm -rf "$work" && mkdir -p "$work"
host=127.0.0.221 port=18200 control=18201
cleanup() { kill "${origin_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
echo "disk: $(df -h "$work" | awk 'NR==2 { print $1 " (" $2 ")" }'), $(findmnt -no FSTYPE -T "$work")"

echo "== core: group commit vs raw batched inserts, 50,000 transfers"
for concurrency in 64 512; do
  echo "-- $concurrency concurrent submitters"
  "$bench" commit "$work" 50000 "$concurrency"
  rm -f "$work"/*.sqlite*
done

"$bin" keygen --out "$work/origin" >/dev/null
start_origin() {
  cat > "$work/nodes.conf" <<CONF
[[node]]
name = "origin-1"
role = "origin"
region = "bench"
latitude = 0
longitude = 0
http = "$host:$port"
content = "content"
control = "$host:$control"
ledger_db = "$1"
signing_key = "origin.key"
checkpoint_interval = 60
CONF
  mkdir -p "$work/content"
  "$bin" serve --config "$work/nodes.conf" --node origin-1 --log-level error & origin_pid=$!
  for _ in $(seq 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$host:$control/v1/checkpoint")" = 401 ] && return 0
    sleep 0.1
  done
  echo "the origin did not start" >&2
  exit 1
}
stop_origin() { kill "$origin_pid"; wait "$origin_pid" 2>/dev/null || true; }

echo
echo "== API: POST /v1/transfers, 64 connections, ${duration}s"
"$bin" token create --db "$work/api.sqlite" --scope admin --out "$work/admin.token" 2>/dev/null
token=$(cat "$work/admin.token")
start_origin api.sqlite
TOKEN=$token RUN=1 wrk -t2 -c64 -d"${duration}s" -s bench/ledger_post.lua "http://$host:$control" > "$work/wrk.txt"
committed=$(curl -s -H "Authorization: Bearer $token" "http://$host:$control/v1/proofs/consistency?first=0" | python3 -c 'import json,sys; print(json.load(sys.stdin)["second"])')
awk '/Requests\/sec/ { print "  wrk: " $0 } /Non-2xx/ { print "  wrk: " $0 } /Latency/ { print "  wrk: " $0 }' "$work/wrk.txt"
python3 -c "print(f'  committed {$committed} transfers in ${duration} s: {$committed / $duration:.0f} durable transfers/s through the API')"
stop_origin

echo
echo "== proofs at 10^6 entries"
"$bench" fill "$work/million.sqlite" 1000000
"$bench" proofs "$work/million.sqlite" 20000
"$bin" token create --db "$work/million.sqlite" --scope admin --out "$work/million.token" 2>/dev/null
start_origin million.sqlite
for connections in 1 8; do
  for kind in inclusion consistency; do
    echo -n "  $connections connection(s):"
    TOKEN=$(cat "$work/million.token") SIZE=1000000 KIND=$kind wrk -t1 -c"$connections" -d5s -s bench/ledger_proof.lua \
      "http://$host:$control" | grep "via HTTP"
  done
done
stop_origin
