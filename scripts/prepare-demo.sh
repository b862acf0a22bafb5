#!/usr/bin/env bash
# What `make run` and `make demo` need before any node starts, made once and kept under out/demo: a 12 s sample clip
# (generated locally, no network), the origin's signing key, the fleet's gossip keyring, an operator key, a local CA and
# each node's TLS certificate, edge-paris's report key and node token, admin and artist tokens; then the clip published afresh as signed HLS (TS and fMP4), verified.
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
[ -f "$work/origin.key" ] || { echo "== generating the origin's signing key"; "$bin" keygen --out "$work/origin"; }
[ -f "$work/gossip.keyring" ] || { echo "== generating the fleet's gossip keyring"; "$bin" gossip-key generate --keyring "$work/gossip.keyring"; }
if [ ! -f "$work/operator.key" ]; then
  echo "== generating an operator key (signs emergency flags; listed in nodes.conf [fleet] operator_keys)"
  "$bin" operator keygen --out "$work/operator" --name demo-operator
fi
if [ ! -f "$work/edge-paris.key" ]; then
  echo "== generating edge-paris's report key (it reports the views it serves)"
  "$bin" keygen --out "$work/edge-paris" --name edge-paris
fi
# A local CA for the fleet and a certificate for each node's address (what `https`, `tls_cert` and `tls_key` name).
tls="$work/tls"
if [ ! -f "$tls/ca.pem" ]; then
  echo "== making a local CA and a TLS certificate for each node with openssl (trust $tls/ca.pem to play over https)"
  mkdir -p "$tls" && chmod 700 "$tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tls/ca.key" -out "$tls/ca.pem" -days 825 \
    -subj "/CN=edgenode demo fleet CA" 2>/dev/null
fi
python3 - <<'PY' | while read -r name address; do
import tomllib
for node in tomllib.load(open("nodes.conf", "rb"))["node"]:
    if "tls_cert" in node:
        print(node["name"], node["https"].rsplit(":", 1)[0])
PY
  [ -f "$tls/$name.pem" ] && continue
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tls/$name.key" -out "$tls/$name.csr" -subj "/CN=$name" 2>/dev/null
  printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$address" > "$tls/$name.ext"
  openssl x509 -req -in "$tls/$name.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial -out "$tls/$name.pem" -days 365 \
    -extfile "$tls/$name.ext" 2>/dev/null
  chmod 600 "$tls/$name.key"
done
token() {
  [ -f "$work/$1.token" ] || "$bin" token create --config nodes.conf --node origin-1 --scope "$2" --label "$3" --out "$work/$1.token" >/dev/null
}
token edge-paris node:edge-paris "edge-paris reports"
token admin admin demo
token artist artist:demo-artist demo

mkdir -p "$work/content"
for format in ts fmp4; do
  echo "== publishing the clip as signed HLS ($format)"
  "$bin" segment "$work/sample.mp4" --out "$work/content/sample-$format" --key "$work/origin.key" --format "$format" \
    --hls-time 4 --artist demo-artist --title "Demo tone" --isrc FR-EDG-26-0000$([ "$format" = ts ] && echo 1 || echo 2) --force >/dev/null
  "$bin" verify "$work/content/sample-$format" --pubkey "$work/origin.pub" >/dev/null
done
echo "== sample-ts and sample-fmp4 published under $work/content and verified"
