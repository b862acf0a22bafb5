#!/usr/bin/env bash
# View fraud: what one client address can make of views in one minute against a real counting node (issue 24).
# An origin serving a 2 s-segment clip counts views (report_key/report_token; no control API: the counts stay in its
# spool, read here). One client, one address, for SECONDS each:
#   tiny-ranges   a new User-Agent per "viewer", one-byte ranges of 15 consecutive segments (30 s of media by touch)
#   whole         a new User-Agent per "viewer", 15 whole segments each (30 s of media, all its bytes)
# It prints the requests made, the views the node counted (sessions at or above view_threshold, from its spool), and
# what the old rule (a segment's whole duration for any response of it, no bound per address) gives for the same
# requests: one view per 15 responses.
#
#   bench/view-fraud.sh [SECONDS]     (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
swift build --product edgenode >/dev/null
bin=$(realpath .build/debug/edgenode)
work=bench/work/view-fraud
rm -rf "$work" && mkdir -p "$work/content"
host=127.0.0.231 port=18231
cleanup() { kill "${node_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
ffmpeg -v error -f lavfi -i testsrc2=size=640x360:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 -t 40 \
  -c:v libx264 -preset veryfast -g 60 -keyint_min 60 -sc_threshold 0 -pix_fmt yuv420p -c:a aac -b:a 96k "$work/clip.mp4"
"$bin" keygen --out "$work/origin" >/dev/null
"$bin" keygen --out "$work/report" >/dev/null
"$bin" segment "$work/clip.mp4" --out "$work/content/clip" --key "$work/origin.key" --format ts --hls-time 2 --no-fsync >/dev/null
echo "bench-token-not-used" > "$work/report.token" && chmod 600 "$work/report.token"
cat > "$work/nodes.conf" <<CONF
[royalty]
view_threshold = 30
view_report_interval = 1
[[node]]
name = "origin-1"
role = "origin"
region = "bench"
latitude = 0
longitude = 0
http = "$host:$port"
content = "content"
origin_key = "origin.pub"
report_key = "report"
report_token = "report.token"
threads = 1
CONF
run() {
  rm -rf "$work/content/.views"
  "$bin" serve --config "$work/nodes.conf" --node origin-1 --log-level error &
  node_pid=$!
  for _ in $(seq 100); do curl -fsS "http://$host:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  python3 - "$host" "$port" "$work" "$seconds" "$1" <<'PY'
import glob, http.client, json, sys, time
host, port, work, seconds, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), sys.argv[5]
manifest = json.load(open(f"{work}/content/clip/manifest.json"))
segments = sorted(f["path"] for f in manifest["files"] if f["path"].endswith(".ts"))[:15]
connection = http.client.HTTPConnection(host, port)
deadline, requests, viewers, sent = time.time() + seconds, 0, 0, 0
while time.time() < deadline:
    agent = f"viewer-{viewers}"
    for path in segments:
        headers = {"User-Agent": agent}
        if mode == "tiny-ranges":
            headers["Range"] = "bytes=0-0"
        connection.request("GET", f"/clip/{path}", headers=headers)
        response = connection.getresponse()
        sent += len(response.read())
        requests += 1
    viewers += 1
time.sleep(2.5)  # the node saves its open period every second
views = 0
for name in glob.glob(f"{work}/content/.views/open-*.txt"):
    for line in open(name):
        if line.startswith("s ") and int(line.split()[2]) >= 30_000:
            views += 1
print(f"{mode:<12} {requests:>7} requests, {sent / 1e6:8.1f} MB in {seconds:.0f} s from one address: "
      f"{views:>5} views counted; the old rule: {requests // 15:>6} views")
PY
  kill "$node_pid"; wait "$node_pid" 2>/dev/null || true
}
run tiny-ranges
run whole
