#!/usr/bin/env bash
# Routing benchmark.
# 1. Pure, in-process (route-bench): decisions per second of the routing policy at 1,000 nodes and 10,000 coverage
#    zones (and for an 8-node metro group), zone lookups per second, and the byte hit ratio of a 3-edge group with
#    rendezvous hashing vs round-robin at the same total cache size (S3-FIFO, seeded Zipf trace).
# 2. Real processes (bench/route_live.py): N (default 32) nodes routing on loopback; 302 answers per second of a live
#    node vs its playlist hits; failover time from kill -9 of the chosen node until every node routes its viewers
#    elsewhere (and until gossip has declared it dead everywhere), TRIALS (default 10) trials.
#
#   bench/route.sh [DECISIONS] [N] [TRIALS]      (default 20000 decisions at 1,000 nodes, N = 32, 10 trials)
set -euo pipefail
cd "$(dirname "$0")/.."
decisions=${1:-20000}
size=${2:-32}
trials=${3:-10}
scripts/install-deps.sh python3 wrk ffmpeg >/dev/null
swift build -c release --product route-bench >/dev/null
swift build -c release --product edgenode >/dev/null
echo "== pure policy"
.build/release/route-bench "$decisions"
echo

bin=.build/release/edgenode
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" gossip-key generate --keyring "$work/gossip.keyring" >/dev/null
"$bin" keygen --out "$work/origin" >/dev/null
ffmpeg -v error -nostdin -f lavfi -i testsrc=size=640x360:rate=25 -f lavfi -i sine=frequency=440 -t 12 \
  -c:v libx264 -g 50 -c:a aac -shortest "$work/clip.mp4"
mkdir -p "$work/origin-content"
"$bin" segment "$work/clip.mp4" --out "$work/origin-content/clip" --key "$work/origin.key" --hls-time 4 >/dev/null
python3 bench/route_live.py "$bin" "$work" "$size" "$trials" 3 5
