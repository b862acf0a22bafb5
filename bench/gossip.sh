#!/usr/bin/env bash
# Gossip benchmark.
# 1. Real processes: N (default 32) `edgenode serve` processes gossiping on loopback, probe interval 1 s; each of
#    TRIALS (default 5) trials kills one with SIGKILL and measures until every other member has declared it dead.
# 2. Simulator (seeded, replayable): time from a crash until every member of N = 32 has declared it dead (100 seeded
#    clusters, 0 % and 10 % loss, clocks skewed up to ±20 ms); 1,000 members: time for a cluster record to reach
#    99 % / 99.99 % / 100 % of them at 0 % and 25 % packet loss with the traffic per member; false deaths over 10
#    simulated minutes at 10 % loss with 5 % of members CPU-stalled, local health multiplier on and off.
#
#   bench/gossip.sh [N] [TRIALS]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-32}
trials=${2:-5}
scripts/install-deps.sh python3 >/dev/null
swift build -c release --product edgenode >/dev/null
swift build -c release --product gossip-bench >/dev/null
echo "== real processes: N=$size, kill -9 one member, $trials trials"
python3 bench/gossip_kill.py .build/release/edgenode "$size" "$trials"
echo
echo "== simulator: detection, 32 members, 100 trials"
.build/release/gossip-bench detection 32 100
echo
echo "== simulator: cluster record, 1,000 members"
.build/release/gossip-bench record 1000 3
echo
echo "== simulator: false deaths, 1,000 members, 10 simulated minutes"
.build/release/gossip-bench false-positives 1000 10
