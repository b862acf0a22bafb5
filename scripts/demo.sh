#!/usr/bin/env bash
# `make run`: make a short sample clip (generated locally, no network), publish it as signed HLS in both segment
# formats, verify what was written, serve it from origin-1 and through edge-paris (a cache filled on demand,
# verified against the signature), and play it with ffprobe; record royalties through the control module and verify
# an artist receipt and the whole ledger.
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

if [ ! -f "$work/gossip.keyring" ]; then
  echo "== generating the fleet's gossip keyring"
  "$bin" gossip-key generate --keyring "$work/gossip.keyring"
fi

if [ ! -f "$work/operator.key" ]; then
  echo "== generating an operator key (signs emergency flags; listed in nodes.conf [fleet] operator_keys)"
  "$bin" operator keygen --out "$work/operator" --name demo-operator
fi

if [ ! -f "$work/edge-paris.key" ]; then
  echo "== generating edge-paris's report key and its node:edge-paris token (it reports the views it serves)"
  "$bin" keygen --out "$work/edge-paris" --name edge-paris
fi
[ -f "$work/edge-paris.token" ] || "$bin" token create --config nodes.conf --node origin-1 --scope node:edge-paris \
  --label "edge-paris reports" --out "$work/edge-paris.token"

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

echo "== serving node origin-1 (http://127.0.0.1:8080) and edge-paris (http://127.0.0.2:8080) of nodes.conf"
rm -rf out/fleet/edge-paris
"$bin" serve --config nodes.conf --node origin-1 & origin=$!
"$bin" serve --config nodes.conf --node edge-paris & edge=$!
trap 'kill "$origin" "$edge" 2>/dev/null || true' EXIT
for address in 127.0.0.1 127.0.0.2; do
  for _ in $(seq 1 50); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://$address:8080/healthz', timeout=1)" 2>/dev/null && break
    sleep 0.1
  done
done
python3 - <<'PY'
import urllib.request
origin, edge = "http://127.0.0.1:8080", "http://127.0.0.2:8080"
for path in ["/sample-fmp4/master.m3u8", "/sample-fmp4/720p/seg_00001.m4s"]:
    request = urllib.request.Request(origin + path, method="HEAD")
    with urllib.request.urlopen(request, timeout=5) as response:
        headers = response.headers
        print(f"  origin HEAD {path}: {response.status} {headers['Content-Type']}, {headers['Content-Length']} bytes, "
              f"ETag {headers['ETag']}, Cache-Control {headers['Cache-Control']}")
path = "/sample-fmp4/720p/seg_00001.m4s"
expected = urllib.request.urlopen(origin + path, timeout=5).read()
for attempt in ("first", "second"):
    with urllib.request.urlopen(edge + path, timeout=5) as response:
        body = response.read()
        print(f"  edge GET {path} ({attempt}): {response.status}, X-Cache {response.headers['X-Cache']}, "
              f"{len(body)} bytes, {'identical to the origin' if body == expected else 'DIFFERENT'}")
request = urllib.request.Request(edge + "/sample-ts/720p/seg_00002.ts", headers={"Range": "bytes=100000-165535"})
with urllib.request.urlopen(request, timeout=5) as response:
    print(f"  edge GET cold range: {response.status} {response.headers['Content-Range']}, X-Cache {response.headers['X-Cache']}")
PY
echo "== ffprobe playing the fMP4 rendition through the edge"
ffprobe -v error -show_entries format=format_name,duration -of default=noprint_wrappers=1 \
  http://127.0.0.2:8080/sample-fmp4/master.m3u8 | sed 's/^/  /'
echo "== what edge-paris counted for royalties (saved every 2 s; salted session keys, no address)"
sleep 3
for file in out/fleet/edge-paris/.views/open-*.txt; do
  grep -E '^(period|content)' "$file" | sed 's/^/  /'
  echo "  $(grep -c '^s ' "$file") viewer session(s) with their media milliseconds"
done
echo "== the control module on origin-1 (http://127.0.0.1:9090): tokens, transfers, a checkpoint, a receipt"
[ -f "$work/admin.token" ] || "$bin" token create --config nodes.conf --node origin-1 --scope admin --label demo --out "$work/admin.token"
[ -f "$work/artist.token" ] || "$bin" token create --config nodes.conf --node origin-1 --scope artist:demo-artist --label demo \
  --out "$work/artist.token"
for _ in $(seq 1 50); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9090/v1/checkpoint', timeout=1)" 2>&1 | grep -q 401 && break
  sleep 0.1
done
python3 - "$work" <<'PY'
import json, sys, urllib.error, urllib.request
work = sys.argv[1]
admin = open(f"{work}/admin.token").read().strip()
artist = open(f"{work}/artist.token").read().strip()
def call(method, path, token, body=None):
    request = urllib.request.Request("http://127.0.0.1:9090" + path, method=method, data=body and json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
for key, amount in [("demo/dsr-2026-10/line-1", 1234), ("demo/dsr-2026-10/line-2", 766)]:
    body = {"idempotency_key": key, "kind": "royalty", "memo": "October streams",
            "postings": [{"account": "external/dsp-a/EUR", "side": "debit", "amount": amount},
                         {"account": "artist/demo-artist/EUR", "side": "credit", "amount": amount}]}
    status, answer = call("POST", "/v1/transfers", admin, body)
    entry = json.loads(answer)["entry"]
    print(f"  POST /v1/transfers {key}: {status} {json.loads(answer)['status']}, entry {entry['index']}, leaf {entry['leaf_hash'][:16]}…")
status, answer = call("POST", "/v1/transfers", admin, dict(body, postings=[dict(p, amount=1) for p in body["postings"]]))
print(f"  the same key with another amount: {status} {json.loads(answer)['error']['code']}")
status, answer = call("POST", "/v1/checkpoints", admin)
print(f"  POST /v1/checkpoints: {status}, size {json.loads(answer)['size']}")
status, answer = call("GET", "/v1/accounts/artist/demo-artist/EUR", artist)
print(f"  artist token, own balance: {status}, {json.loads(answer)['balance']} cents")
status, answer = call("GET", "/v1/entries?start=0", artist)
print(f"  artist token, all entries: {status} {json.loads(answer)['error']['code']}")
status, answer = call("GET", "/v1/artists/demo-artist/receipt", artist)
open(f"{work}/receipt.json", "wb").write(answer)
print(f"  receipt saved to {work}/receipt.json ({len(json.loads(answer)['entries'])} entries)")
PY
"$bin" ledger verify-receipt "$work/receipt.json" --pubkey "$work/origin.pub" | sed 's/^/  /'
"$bin" ledger verify --url http://127.0.0.1:9090 --token-file "$work/admin.token" --pubkey "$work/origin.pub" | sed 's/^/  /'
echo "== origin-1's view of the fleet (gossip; the other nodes of nodes.conf are not running)"
"$bin" status --config nodes.conf --node origin-1 | sed 's/^/  /'
echo "== edge-paris counters"
python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.2:8080/metrics', timeout=5).read().decode())" \
  | grep -E '^edgenode_(cache_responses|upstream_requests|cache_fills)_total' | sed 's/^/  /'
kill -TERM "$edge" "$origin"
wait "$edge" && wait "$origin" && echo "== edge-paris and origin-1 stopped gracefully (exit 0)"
trap - EXIT
