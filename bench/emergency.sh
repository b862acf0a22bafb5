#!/usr/bin/env bash
# Emergency broadcast mode benchmark (issue 13).
# 1. Real processes (bench/emergency_live.py): N (default 32) `edgenode serve` processes on loopback (an origin, edges,
#    mesh nodes, satellites); each of TRIALS (default 5) trials runs `edgenode emergency on --node <one edge>` and then
#    `off`, and measures the time from starting the command until every node reports the new mode on
#    GET /fleet/emergency AND routes a viewer accordingly (GET /route: first candidate a mesh or satellite node when
#    on, an edge when off). Goal: median and max <= 2 s.
# 2. Playback across a flip: a player model (2 s segments, playback starts after the first segment, keeps at most 3
#    segments buffered, follows 302s) plays 40 s from a routing URL while the fleet flips on and then off; stall time
#    (playhead waiting for a segment) is reported. Goal: no stall longer than one segment.
# 3. Simulator: time for an emergency record (a flag-sized 420-byte value) to reach 99 % / 99.99 % / 100 % of 1,000
#    members at 0 % and 25 % loss. Goal: <= 2 s and <= 3 s to 99.99 %.
#
#   bench/emergency.sh [N] [TRIALS]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-32}
trials=${2:-5}
scripts/install-deps.sh python3 ffmpeg >/dev/null
swift build -c release --product edgenode >/dev/null
swift build -c release --product gossip-bench >/dev/null

bin=.build/release/edgenode
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" gossip-key generate --keyring "$work/gossip.keyring" >/dev/null
"$bin" keygen --out "$work/origin" >/dev/null
"$bin" operator keygen --out "$work/operator" --name bench-operator >/dev/null
ffmpeg -v error -nostdin -f lavfi -i testsrc=size=640x360:rate=25 -f lavfi -i sine=frequency=440 -t 40 \
  -c:v libx264 -g 50 -keyint_min 50 -sc_threshold 0 -c:a aac -shortest "$work/clip.mp4"
mkdir -p "$work/origin-content"
"$bin" segment "$work/clip.mp4" --out "$work/origin-content/clip" --key "$work/origin.key" --hls-time 2 >/dev/null
python3 bench/emergency_live.py "$bin" "$work" "$size" "$trials"
echo
echo "== simulator: emergency record, 1,000 members"
.build/release/gossip-bench record 1000 3
