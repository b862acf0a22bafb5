#!/usr/bin/env bash
# Fill benchmark: edgenode (edge) vs nginx (caching reverse proxy, proxy_cache_lock on) in front of the same
# edgenode origin, one worker/thread each, on loopback.
#
# 1. Miss storm: 200 viewers send GET for the same cold ~3.4 MB segment at once (the playlist was fetched first, as
#    a player would). Per server: upstream requests for the segment, time to first byte and total time (p50/p99).
#    The upstream's own TTFB for that segment is measured twice: alone (20 requests in turn) and under the same
#    storm (200 viewers straight at the origin). TRIALS trials, a different cold segment each, alternating which
#    server goes first.
# 2. Cold range: one 64 KiB Range GET at 0 % and at 90 % of a ~200 MB object, each on an empty cache (server
#    restarted with a new cache directory), 3 trials each, alternating.
#
#   bench/fill.sh [TRIALS]     (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-5}
scripts/install-deps.sh nginx python3 >/dev/null
swift build -c release >/dev/null
bin=$(realpath .build/release/edgenode)
work=bench/work
root="$work/fill-root"
mkdir -p "$work"
[ -f "$work/clip-600s-720p30.mp4" ] || { echo "run bench/segment.sh first (it makes the clip)"; exit 1; }
[ -f "$work/bench.key" ] || "$bin" keygen --out "$work/bench" >/dev/null
if [ ! -f "$root/clip/manifest.json" ]; then
  mkdir -p "$root"
  "$bin" segment "$work/clip-600s-720p30.mp4" --out "$root/clip" --key "$work/bench.key" --format ts --hls-time 6 --force >/dev/null
fi
if [ ! -f "$root/big/manifest.json" ]; then
  # One 118 s GOP at a constant 14 Mbit/s: a single segment of about 200 MB.
  ffmpeg -v error -y -f lavfi -i testsrc2=size=1280x720:rate=30 -t 118 -c:v libx264 -preset ultrafast -g 9999 -keyint_min 9999 \
    -sc_threshold 0 -b:v 14M -minrate 14M -maxrate 14M -bufsize 2M -x264-params nal-hrd=cbr -pix_fmt yuv420p -an \
    -f mp4 "$work/big-118s.mp4"
  "$bin" segment "$work/big-118s.mp4" --out "$root/big" --key "$work/bench.key" --format ts --hls-time 120 --force >/dev/null
fi
big_segment=$(cd "$root" && ls big/*/seg_00000.ts)
big_size=$(stat -c %s "$root/$big_segment")

tmp=$(mktemp -d)
cleanup() { kill "${origin_pid:-}" "${edge_pid:-}" "${nginx_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
origin=127.0.0.211 edge=127.0.0.212 nginx=127.0.0.213 port=18100
cat > "$tmp/nodes.conf" <<CONF
[[node]]
name = "origin-1"
role = "origin"
region = "bench"
latitude = 0
longitude = 0
http = "$origin:$port"
content = "$(realpath "$root")"
threads = 1

[[node]]
name = "edge-1"
role = "edge"
region = "bench"
latitude = 0
longitude = 0
http = "$edge:$port"
content = "$tmp/edge-cache"
parents = ["origin-1"]
origin_key = "$(realpath "$work/bench.pub")"
cache_size = "20GiB"
prefetch = 0
threads = 1
CONF

wait_up() { for _ in $(seq 100); do curl -s -o /dev/null "http://$1:$port/healthz" -H "Connection: close" && return 0; sleep 0.05; done; echo "$1 did not start" >&2; exit 1; }
start_edge() {
  kill "${edge_pid:-}" 2>/dev/null && wait "$edge_pid" 2>/dev/null || true
  rm -rf "$tmp/edge-cache"
  "$bin" serve --config "$tmp/nodes.conf" --node edge-1 --log-level error & edge_pid=$!
  wait_up $edge
}
start_nginx() {
  kill "${nginx_pid:-}" 2>/dev/null && wait "$nginx_pid" 2>/dev/null || true
  rm -rf "$tmp/nginx"; mkdir -p "$tmp/nginx/logs"
  cat > "$tmp/nginx/nginx.conf" <<NGINX
daemon off; master_process off; worker_processes 1; user root;
pid $tmp/nginx/nginx.pid; error_log $tmp/nginx/logs/error.log error;
events { worker_connections 4096; }
http {
  log_format upstream '\$request_uri \$upstream_addr \$upstream_cache_status';
  access_log $tmp/nginx/logs/access.log upstream;
  sendfile on; tcp_nodelay on;
  client_body_temp_path $tmp/nginx/body; proxy_temp_path $tmp/nginx/proxy; fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi; scgi_temp_path $tmp/nginx/scgi;
  proxy_cache_path $tmp/nginx/cache levels=1:2 keys_zone=edge:64m max_size=20g inactive=1h use_temp_path=off;
  server {
    listen $nginx:$port;
    location = /healthz { return 200 "ok\n"; }
    location / {
      proxy_pass http://$origin:$port;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache edge;
      proxy_cache_valid 200 206 1h;
      proxy_cache_lock on;
      proxy_cache_lock_timeout 10s;
      proxy_cache_lock_age 10s;
    }
  }
}
NGINX
  /usr/sbin/nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" & nginx_pid=$!
  wait_up $nginx
}
edge_upstream() {
  curl -s "http://$edge:$port/metrics" | awk '/^edgenode_upstream_requests_total\{parent="origin-1",kind="object"\}/ { print $2 + 0 }' | head -1
}
nginx_upstream() { grep -c "^$1 $origin" "$tmp/nginx/logs/access.log" || true; }
field() { python3 -c "import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print(v if isinstance(v, (int, str)) else (round(v, 2) if v is not None else 'none'))" "$1" "$2"; }

"$bin" serve --config "$tmp/nodes.conf" --node origin-1 --log-level error & origin_pid=$!
wait_up $origin
start_edge
start_nginx
results="$work/fill.results"
: > "$results"

echo "== miss storm: 200 viewers, one cold segment, $trials trials =="
printf "%-6s %-9s %9s %8s %10s %10s %10s %10s %s\n" trial server upstream ok ttfb_p50 ttfb_p99 total_p50 total_p99 \
  "origin: ttfb_p50 alone / ttfb_p99 under 200 viewers"
for trial in $(seq 1 "$trials"); do
  path="/clip/720p/seg_$(printf %05d $((trial * 7)))".ts
  origin_alone=$(python3 bench/storm.py --serial $origin $port "$path" 20)
  origin_storm=$(python3 bench/storm.py $origin $port "$path" 200)
  origin_ttfb="$(field "$origin_alone" ttfb_p50_ms) / $(field "$origin_storm" ttfb_p99_ms)"
  order=(edgenode nginx); [ $((trial % 2)) -eq 0 ] && order=(nginx edgenode)
  for server in "${order[@]}"; do
    if [ "$server" = edgenode ]; then host=$edge; else host=$nginx; fi
    curl -s -o /dev/null "http://$host:$port/clip/720p/index.m3u8"
    [ "$server" = edgenode ] && before=$(edge_upstream)
    summary=$(python3 bench/storm.py $host $port "$path" 200)
    if [ "$server" = edgenode ]; then upstream=$(( $(edge_upstream) - before )); else upstream=$(nginx_upstream "$path"); fi
    printf "%-6s %-9s %9s %8s %10s %10s %10s %10s %s\n" "$trial" "$server" "$upstream" "$(field "$summary" ok)" \
      "$(field "$summary" ttfb_p50_ms)" "$(field "$summary" ttfb_p99_ms)" "$(field "$summary" total_p50_ms)" \
      "$(field "$summary" total_p99_ms)" "$origin_ttfb" | tee -a "$results"
  done
done

echo
echo "== cold range: 64 KiB at 0 % and 90 % of a $big_size-byte object, empty cache each time =="
printf "%-6s %-9s %-5s %10s %10s\n" trial server at ttfb_ms total_ms
for trial in 1 2 3; do
  positions=(90 0); [ $((trial % 2)) -eq 0 ] && positions=(0 90)
  for server in edgenode nginx; do
    for at in "${positions[@]}"; do
      if [ "$server" = edgenode ]; then start_edge; host=$edge; else start_nginx; host=$nginx; fi
      curl -s -o /dev/null "http://$host:$port/$(dirname "$big_segment")/index.m3u8"
      first=$(( big_size * at / 100 ))
      summary=$(python3 bench/storm.py $host $port "/$big_segment" 1 "Range: bytes=$first-$((first + 65535))")
      [ "$(field "$summary" ok)" = 1 ] || { echo "range request failed: $summary" >&2; exit 1; }
      printf "%-6s %-9s %-5s %10s %10s\n" "$trial" "$server" "$at%" "$(field "$summary" ttfb_p50_ms)" "$(field "$summary" total_p50_ms)" \
        | tee -a "$results"
    done
  done
done
