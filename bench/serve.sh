#!/usr/bin/env bash
# Data-plane benchmark: edgenode serve vs nginx (1 worker, sendfile on, access log off) over the same segmented
# 10-minute 720p clip, same wrk settings, alternating, RUNS runs each, three workloads:
#   playlist  small media-playlist GETs               (wrk -t1 -c64)
#   ranges    random 64 KiB ranges across segments    (wrk -t1 -c32, same seeded sequence for both)
#   segments  whole segments, in turn                 (wrk -t1 -c16)
# edgenode runs one event-loop thread, like nginx's one worker; wrk takes the other core.
#
#   bench/serve.sh [RUNS] [SECONDS]      (default 3 runs of 10 s; WORKLOADS="ranges" runs only those named)
# With TLS=1 (bench/tls.sh) both serve HTTPS with the same certificate (EC P-256, made here with openssl) and the same
# protocol and cipher (TLS 1.3, TLS_AES_256_GCM_SHA384, checked with openssl s_client before measuring), and a fourth
# workload counts full handshakes: playlist GETs each on a new connection (`Connection: close`, wrk -c16).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
seconds=${2:-10}
tls=${TLS:-0}
scripts/install-deps.sh nginx wrk time python3 >/dev/null
swift build -c release >/dev/null
bin=.build/release/edgenode
work=bench/work
root="$work/serve-root"
mkdir -p "$work"

if [ ! -f "$root/clip/manifest.json" ]; then
  [ -f "$work/clip-600s-720p30.mp4" ] || { echo "run bench/segment.sh first (it makes the clip)"; exit 1; }
  [ -f "$work/bench.key" ] || "$bin" keygen --out "$work/bench" >/dev/null
  mkdir -p "$root"
  "$bin" segment "$work/clip-600s-720p30.mp4" --out "$root/clip" --key "$work/bench.key" --format ts --hls-time 6 --force >/dev/null
fi

# wrk scripts: the segment list with sizes, a seeded random sequence of 64 KiB ranges, and a round robin.
python3 - "$root" "$work" <<'PY'
import json, os, sys
root, work = sys.argv[1], sys.argv[2]
manifest = json.load(open(f"{root}/clip/manifest.json"))
segs = [(f"/clip/{f['path']}", f['size']) for f in manifest['files'] if f['path'].endswith('.ts')]
table = ",\n".join(f'  {{"{p}", {s}}}' for p, s in segs)
open(f"{work}/ranges.lua", "w").write(f"""local files = {{
{table}
}}
math.randomseed(42)
request = function()
  local f = files[math.random(#files)]
  local first = math.random(0, f[2] - 65536)
  return wrk.format("GET", f[1], {{["Range"] = "bytes=" .. first .. "-" .. (first + 65535)}})
end
""")
open(f"{work}/segments.lua", "w").write(f"""local files = {{
{table}
}}
local i = 0
request = function()
  i = i % #files + 1
  return wrk.format("GET", files[i][1])
end
""")
PY

if [ "$tls" = 1 ]; then
  mkdir -p "$work/tls"
  if [ ! -f "$work/tls/node.pem" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/tls/ca.key" -out "$work/tls/ca.pem" \
      -days 365 -subj "/CN=edgenode bench CA" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/tls/node.key" -out "$work/tls/node.csr" \
      -subj "/CN=bench" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.201,IP:127.0.0.202\n' > "$work/tls/ext.cnf"
    openssl x509 -req -in "$work/tls/node.csr" -CA "$work/tls/ca.pem" -CAkey "$work/tls/ca.key" -CAcreateserial \
      -out "$work/tls/node.pem" -days 365 -extfile "$work/tls/ext.cnf" 2>/dev/null
    chmod 600 "$work/tls/node.key"
  fi
  scheme=https; results="$work/tls.results"; workloads="playlist ranges segments handshakes"
  listen_nginx="127.0.0.201:18093 ssl; ssl_certificate $(realpath "$work/tls/node.pem"); ssl_certificate_key $(realpath "$work/tls/node.key"); ssl_protocols TLSv1.3"
  edge_args=(--listen 127.0.0.202:18092 --https 127.0.0.202:18094 --tls-cert "$work/tls/node.pem" --tls-key "$work/tls/node.key")
  ports=(18093 18094)
else
  scheme=http; results="$work/serve.results"; workloads="playlist ranges segments"
  listen_nginx="127.0.0.201:18090"
  edge_args=(--listen 127.0.0.202:18091)
  ports=(18090 18091)
fi
workloads=${WORKLOADS:-$workloads}

prefix=$(mktemp -d)
cleanup() { kill "${nginx_pid:-}" "${edge_pid:-}" 2>/dev/null || true; rm -rf "$prefix"; }
trap cleanup EXIT
mkdir -p "$prefix/logs"
cat > "$prefix/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; user root;
pid $prefix/nginx.pid; error_log $prefix/logs/error.log error;
events { worker_connections 4096; }
http {
  access_log off; sendfile on; tcp_nodelay on; keepalive_requests 1000000;
  client_body_temp_path $prefix/body; proxy_temp_path $prefix/proxy; fastcgi_temp_path $prefix/fastcgi;
  uwsgi_temp_path $prefix/uwsgi; scgi_temp_path $prefix/scgi;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
  server { listen $listen_nginx; root $(realpath "$root"); }
}
CONF
/usr/sbin/nginx -p "$prefix" -c "$prefix/nginx.conf" & nginx_pid=$!
"$bin" serve --root "$root" "${edge_args[@]}" --threads 1 --log-level error & edge_pid=$!
sleep 1

declare -A urls=([nginx]="$scheme://127.0.0.201:${ports[0]}" [edgenode]="$scheme://127.0.0.202:${ports[1]}")
if [ "$tls" = 1 ]; then
  for server in nginx edgenode; do
    echo "$server: $(openssl s_client -connect "${urls[$server]#https://}" -CAfile "$work/tls/ca.pem" </dev/null 2>/dev/null \
      | grep -E '^(New|Verify return code)' | tr '\n' ' ')"
  done
fi
: > "$results"
for workload in $workloads; do
  case $workload in
    playlist) args=(-c64 /clip/720p/index.m3u8) ;;
    ranges) args=(-c32 -s "$work/ranges.lua" /) ;;
    segments) args=(-c16 -s "$work/segments.lua" /) ;;
    handshakes) args=(-c16 -H "Connection: close" /clip/720p/index.m3u8) ;;
  esac
  for run in $(seq 1 "$runs"); do
    for server in nginx edgenode; do
      url="${urls[$server]}${args[-1]}"
      out=$(wrk -t1 -d"${seconds}s" --latency "${args[@]:0:${#args[@]}-1}" "$url")
      echo "$out" | python3 -c '
import re, sys
text = sys.stdin.read()
def unit(v, u):
    return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[u]
def size(v, u):
    return float(v) * {"B": 1e-6, "KB": 1.024e-3, "MB": 1.048576, "GB": 1073.741824}[u]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
mbs = size(*re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", text).groups())
p50 = unit(*re.search(r"50%\s+([\d.]+)(\w+)", text).groups())
p99 = unit(*re.search(r"99%\s+([\d.]+)(\w+)", text).groups())
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(sys.argv[1], sys.argv[2], rps, mbs, p50, p99, errors.group(1) if errors else 0)
' "$workload" "$server" >> "$results"
    done
  done
done

python3 - "$results" "$runs" "$seconds" $workloads <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
print(f"runs={sys.argv[2]} x {sys.argv[3]} s each, wrk -t1; medians (p99 = median of per-run p99)")
print(f"{'workload':9} {'server':9} {'req/s':>10} {'MB/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
for workload in sys.argv[4:]:
    med = {}
    for server in ["nginx", "edgenode"]:
        r = [x for x in rows if x[0] == workload and x[1] == server]
        m = [statistics.median(float(x[i]) for x in r) for i in range(2, 6)]
        errors = sum(int(x[6]) for x in r)
        med[server] = m
        print(f"{workload:9} {server:9} {m[0]:10.0f} {m[1]:9.1f} {m[2]:8.3f} {m[3]:8.3f} {errors:7d}")
    n, e = med["nginx"], med["edgenode"]
    print(f"{workload:9} {'ratio':9} {e[0]/n[0]:10.2f} {e[1]/n[1]:9.2f}   p99 edgenode/nginx {e[3]/n[3]:.2f}")
PY
