#!/usr/bin/env bash
# Runs schemathesis (pinned, from PyPI, in a venv under .build/tools) against a real origin's control API: every
# operation of docs/control-api.openapi.json, coverage and fuzzing phases, every check, a fixed seed and a bounded
# number of examples (scripts/schemathesis.toml). Fails on any failure. Needs the debug build of edgenode.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv=.build/tools/schemathesis-venv
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check schemathesis==4.32.5
fi
binary=$(swift build --show-bin-path)/edgenode
work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
host=127.0.0.93
"$binary" keygen --out "$work/origin" >/dev/null
mkdir -p "$work/content"
cat > "$work/nodes.conf" <<CONF
[fleet]
name = "schemathesis"
[[node]]
name = "origin-1"
role = "origin"
region = "local"
latitude = 0.0
longitude = 0.0
http = "$host:18480"
control = "$host:19480"
content = "content"
ledger_db = "ledger/ledger.sqlite"
signing_key = "origin.key"
origin_key = "origin.pub"
[royalty]
tax_rates = "$root/royalty/tax-rates.csv"
CONF
"$binary" token create --scope admin --config "$work/nodes.conf" --node origin-1 --out "$work/admin.token" >/dev/null 2>&1
"$binary" serve --config "$work/nodes.conf" --node origin-1 --log-level warning >"$work/serve.log" 2>&1 &
server=$!
token=$(cat "$work/admin.token")
python3 - "$host" "$token" <<'PY' || { echo "origin log:" >&2; sed 's/^/  /' "$work/serve.log" >&2; exit 1; }
import json, sys, time, urllib.request
host, token = sys.argv[1], sys.argv[2]
def call(method, path, body=None):
    request = urllib.request.Request(f"http://{host}:19480{path}", method=method, data=body,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    return urllib.request.urlopen(request, timeout=5)
for _ in range(300):
    try:
        call("GET", "/v1/integrity")
        break
    except Exception:
        time.sleep(0.1)
else:
    sys.exit("the control API did not come up within 30 s")
# A few entries and a checkpoint, so that reads, proofs and exports have something to return.
for index in range(3):
    body = {"idempotency_key": f"seed-{index}", "kind": "royalty", "postings": [
        {"account": "external/dsp-a/EUR", "side": "debit", "amount": 100 + index},
        {"account": "artist/luna/EUR", "side": "credit", "amount": 100 + index}]}
    call("POST", "/v1/transfers", json.dumps(body).encode())
call("POST", "/v1/checkpoints")
PY
cd "$root"
"$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run docs/control-api.openapi.json \
  --url "http://$host:19480" -H "Authorization: Bearer $token" --seed 1 --no-color
