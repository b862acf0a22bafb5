#!/usr/bin/env bash
# `make run`: make a short sample clip (generated locally, no network), publish it as signed HLS in both segment
# formats, verify what was written, and show it.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=.build/debug/edgenode
work=out/demo
mkdir -p "$work"

if [ ! -f "$work/sample.mp4" ]; then
  echo "== generating a 12 s 1280x720 H.264/AAC sample clip with ffmpeg"
  ffmpeg -v error -nostdin -y -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 \
    -t 12 -c:v libx264 -preset veryfast -g 60 -keyint_min 60 -sc_threshold 0 -pix_fmt yuv420p \
    -c:a aac -b:a 128k -movflags +faststart "$work/sample.mp4"
fi

if [ ! -f "$work/origin.key" ]; then
  echo "== generating the origin's signing key"
  "$bin" keygen --out "$work/origin"
fi

mkdir -p "$work/content"
for format in ts fmp4; do
  echo "== segmenting as $format"
  "$bin" segment "$work/sample.mp4" --out "$work/content/sample-$format" --key "$work/origin.key" \
    --format "$format" --hls-time 4 --artist demo-artist --title "Demo tone" --force
  echo "== verifying"
  "$bin" verify "$work/content/sample-$format" --pubkey "$work/origin.pub"
done

echo "== what was published ($work/content/sample-fmp4)"
find "$work/content/sample-fmp4" -type f | sort | while read -r file; do
  printf '  %8d  %s\n' "$(stat -c %s "$file")" "${file#"$work/content/"}"
done
echo "== master.m3u8"
sed 's/^/  /' "$work/content/sample-fmp4/master.m3u8"
echo "== 720p/index.m3u8"
sed 's/^/  /' "$work/content/sample-fmp4/720p/index.m3u8"

echo "== serving node origin-1 of nodes.conf (http://127.0.0.1:8080)"
"$bin" serve --config nodes.conf --node origin-1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  python3 -c 'import urllib.request; urllib.request.urlopen("http://127.0.0.1:8080/healthz", timeout=1)' 2>/dev/null && break
  sleep 0.1
done
python3 - <<'PY'
import urllib.request
for path in ["/sample-fmp4/master.m3u8", "/sample-fmp4/720p/seg_00001.m4s"]:
    request = urllib.request.Request("http://127.0.0.1:8080" + path, method="HEAD")
    with urllib.request.urlopen(request, timeout=5) as response:
        headers = response.headers
        print(f"  HEAD {path}: {response.status} {headers['Content-Type']}, {headers['Content-Length']} bytes, "
              f"ETag {headers['ETag']}, Cache-Control {headers['Cache-Control']}")
request = urllib.request.Request("http://127.0.0.1:8080/sample-fmp4/720p/seg_00001.m4s", headers={"Range": "bytes=0-1023"})
with urllib.request.urlopen(request, timeout=5) as response:
    print(f"  GET with Range: {response.status} {response.headers['Content-Range']}")
PY
echo "== ffprobe playing the fMP4 rendition over HTTP"
ffprobe -v error -show_entries format=format_name,duration -of default=noprint_wrappers=1 \
  http://127.0.0.1:8080/sample-fmp4/master.m3u8 | sed 's/^/  /'
kill -TERM "$server"
wait "$server" && echo "== origin-1 stopped gracefully (exit 0)"
trap - EXIT
