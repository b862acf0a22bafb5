#!/usr/bin/env bash
# Segmenter benchmark: edgenode segment vs `ffmpeg -c copy -f hls` on the same 10-minute 720p30 H.264/AAC clip
# (2 s GOPs, ~4 Mbit/s), alternating runs, TS and fMP4. Prints median wall time, the ratio edgenode/ffmpeg and
# peak RSS. edgenode runs twice per round: with --no-fsync (like ffmpeg, which never fsyncs) and with its default
# crash-safe fsync of every file.
#
#   bench/segment.sh [RUNS]      (default 5 runs of each)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
scripts/install-deps.sh time
swift build -c release >/dev/null
bin=.build/release/edgenode
work=bench/work
mkdir -p "$work"
clip="$work/clip-600s-720p30.mp4"

if [ ! -f "$clip" ]; then
  echo "generating $clip (10 min, 1280x720, 30 fps, 2 s GOP, CBR 4 Mbit/s + AAC 128k) ..."
  ffmpeg -v error -nostdin -y -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 \
    -t 600 -c:v libx264 -preset ultrafast -g 60 -keyint_min 60 -sc_threshold 0 -pix_fmt yuv420p \
    -b:v 4M -minrate 4M -maxrate 4M -bufsize 4M -x264-params nal-hrd=cbr \
    -c:a aac -b:a 128k -movflags +faststart "$clip"
fi
[ -f "$work/bench.key" ] || "$bin" keygen --out "$work/bench" >/dev/null
echo "input: $clip ($(stat -c %s "$clip") bytes)"

# measure LABEL COMMAND... : appends "seconds kilobytes" to $work/LABEL.times. Every run starts from the same state:
# no previous output (deleting 300 MB is not part of anyone's time) and no dirty pages waiting for writeback.
measure() {
  local label=$1; shift
  rm -rf "$work/ffmpeg-out" "$work/edgenode-out"
  mkdir -p "$work/ffmpeg-out"
  sync
  /usr/bin/time -f "%e %M" -o "$work/time.out" "$@" >/dev/null 2>"$work/last.err" || { cat "$work/last.err" >&2; exit 1; }
  cat "$work/time.out" >> "$work/$label.times"
}

for format in ts fmp4; do
  rm -f "$work"/*.times
  for i in $(seq 1 "$runs"); do
    if [ "$format" = ts ]; then
      measure ffmpeg ffmpeg -v error -nostdin -y -i "$clip" -c copy -f hls -hls_time 6 -hls_playlist_type vod \
        -hls_segment_filename "$work/ffmpeg-out/seg_%05d.ts" "$work/ffmpeg-out/index.m3u8"
    else
      measure ffmpeg ffmpeg -v error -nostdin -y -i "$clip" -c copy -f hls -hls_time 6 -hls_playlist_type vod \
        -hls_segment_type fmp4 -hls_segment_filename "$work/ffmpeg-out/seg_%05d.m4s" "$work/ffmpeg-out/index.m3u8"
    fi
    measure edgenode "$bin" segment "$clip" --out "$work/edgenode-out" --key "$work/bench.key" --format "$format" \
      --hls-time 6 --no-fsync
    measure edgenode-fsync "$bin" segment "$clip" --out "$work/edgenode-out" --key "$work/bench.key" --format "$format" \
      --hls-time 6
  done
  python3 - "$work" "$format" "$runs" <<'PY'
import statistics, sys
work, fmt, runs = sys.argv[1], sys.argv[2], sys.argv[3]
def load(label):
    rows = [tuple(map(float, line.split())) for line in open(f"{work}/{label}.times")]
    return statistics.median(r[0] for r in rows), max(r[1] for r in rows) / 1024
ff, ff_rss = load("ffmpeg")
en, en_rss = load("edgenode")
ed, ed_rss = load("edgenode-fsync")
print(f"{fmt:5} runs={runs}  ffmpeg {ff:6.3f} s ({ff_rss:5.1f} MiB)   "
      f"edgenode {en:6.3f} s ({en_rss:5.1f} MiB) ratio {en/ff:4.2f}   "
      f"edgenode+fsync {ed:6.3f} s ({ed_rss:5.1f} MiB) ratio {ed/ff:4.2f}")
PY
done
