#!/usr/bin/env bash
# Cost of verifying the disk: an origin serving a 2-minute 720p clip (about 20 segments of a few MB), each segment
# asked for three times with a fresh connection: the first open hashes the whole file against the signed manifest,
# the next ones are the ordinary warm path. Prints TTFB cold vs warm and the verification cost per MB, then the
# throughput of warm whole-segment GETs with wrk, which verification must not change.
#
#   bench/verify.sh [ROUNDS]      (default 3 rounds, each on a freshly started origin)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
scripts/install-deps.sh wrk python3 ffmpeg >/dev/null
swift build -c release >/dev/null
bin=.build/release/edgenode
work=bench/work/verify
mkdir -p "$work"
if [ ! -f "$work/root/clip/manifest.json" ]; then
  ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 \
    -t 120 -c:v libx264 -preset veryfast -b:v 5M -g 60 -c:a aac "$work/clip.mp4"
  "$bin" keygen --out "$work/bench" --force >/dev/null
  mkdir -p "$work/root"
  "$bin" segment "$work/clip.mp4" --out "$work/root/clip" --key "$work/bench.key" --format ts --hls-time 6 --force >/dev/null
fi
host=127.0.0.95
port=18495
for round in $(seq 1 "$rounds"); do
  "$bin" serve --root "$work/root" --listen "$host:$port" --pubkey "$work/bench.pub" --threads 1 --log-level warning &
  server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  python3 - "$host" "$port" "$work/root/clip/manifest.json" "$round" <<'PY'
import json, socket, sys, time
host, port, manifest, round_ = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
files = [(f"/clip/{f['path']}", f['size']) for f in json.load(open(manifest))['files'] if f['path'].endswith('.ts')]
for _ in range(100):
    try:
        socket.create_connection((host, port), timeout=1).close(); break
    except OSError:
        time.sleep(0.05)
def get(path):
    s = socket.create_connection((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    start = time.perf_counter()
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    first = s.recv(65536)
    ttfb = time.perf_counter() - start
    status = first.split(b" ", 2)[1]
    while s.recv(1 << 20): pass
    s.close()
    assert status == b"200", status
    return ttfb
cold, warm, megabytes = [], [], 0.0
for path, size in files:
    cold.append(get(path))
    warm.append(min(get(path), get(path)))
    megabytes += size / 1e6
extra = sum(cold) - sum(warm)
print(f"round {round_}: {len(files)} segments, {megabytes:.1f} MB; TTFB first open {1000*sum(cold)/len(cold):.2f} ms mean, "
      f"warm {1000*sum(warm)/len(warm):.2f} ms; verification {1000*extra/megabytes:.2f} ms/MB "
      f"({megabytes/extra:.0f} MB/s)")
PY
  first_segment=$(python3 -c "import json;print([f['path'] for f in json.load(open('$work/root/clip/manifest.json'))['files'] if f['path'].endswith('.ts')][0])")
  wrk -t1 -c16 -d5s "http://$host:$port/clip/$first_segment" | awk -v r="$round" '/Requests\/sec|Transfer\/sec/ {print "round " r ": warm whole-segment " $0}'
  kill "$server"; wait "$server" 2>/dev/null || true
  trap - EXIT
done
