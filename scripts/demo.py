#!/usr/bin/env python3
"""`make demo`: a scripted tour of the whole fleet of nodes.conf, each step checked (any failed check exits 1; make test
runs it): routing, an edge fill verified against the origin, a mesh peer fill, the origin stopped (stale-if-error,
then a fill failing over to a mesh peer), an emergency flip and back, a royalty flow and an artist's statement, then
every node stopped gracefully."""
import http.client
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fleet import Fleet, ROOT  # noqa: E402

WORK = os.path.join(ROOT, "out/demo")
BIN = os.path.join(ROOT, ".build/debug/edgenode")
# origin-1's control address in the sample nodes.conf; origin-1 has a certificate, so its control API speaks only HTTPS.
CONTROL = "https://127.0.0.1:9090"
failures = 0


def check(condition, what):
    global failures
    print(f"   {'ok ' if condition else 'FAIL'} {what}", flush=True)
    if not condition:
        failures += 1
        raise SystemExit(f"demo step failed: {what}")


def step(title):
    print(f"== {title}", flush=True)


def get(fleet, node, path, source=None, headers=None, method="GET"):
    """One request to `node` (from the local address `source`, a viewer in that zone): status, headers, body."""
    host, port = fleet.nodes[node]["http"].rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=15, source_address=(source, 0) if source else None)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def metric(fleet, node, series):
    _, _, body = get(fleet, node, "/metrics")
    for line in body.decode().splitlines():
        if line.startswith(series + " "):
            return float(line.split(" ")[1])
    return 0.0


def cli(*arguments):
    result = subprocess.run([BIN, *arguments], cwd=ROOT, capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout, result.stderr


def eventually(condition, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def statuses(fleet, observer):
    try:
        _, _, body = get(fleet, observer, "/cluster")
        return {member["name"]: member["status"] for member in json.loads(body)["members"]}
    except (OSError, ValueError, KeyError):
        return {}


def control(method, path, token, body=None):
    """Calls the origin's control API over HTTPS (the origin has a certificate), trusting the fleet's local CA."""
    request = urllib.request.Request(CONTROL + path, method=method, data=body and json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    context = ssl.create_default_context(cafile=os.path.join(WORK, "tls/ca.pem"))
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def tour(fleet):
    names = list(fleet.nodes)
    segment = "/sample-fmp4/720p/seg_00001.m4s"
    step(f"every node of nodes.conf as its own process: {', '.join(names)}")
    check(eventually(lambda: set(statuses(fleet, "origin-1").values()) == {"alive"} and len(statuses(fleet, "origin-1")) == len(names)),
          f"origin-1 sees all {len(names)} nodes alive through gossip")

    step("routing: a viewer asks the origin for the playlist and is sent to the nearest healthy edge")
    for viewer, source, expected in [("Paris", "127.0.1.10", "edge-paris"), ("Berlin", "127.0.2.10", "edge-berlin")]:
        status, headers, _ = get(fleet, "origin-1", "/sample-fmp4/master.m3u8", source=source)
        location = headers.get("location", "")
        check(status == 302 and location.startswith(fleet.base(expected)), f"a viewer in {viewer} ({source}): {status} → {location}")

    step("edge-paris fills on demand and verifies every chunk against the origin's signature")
    _, _, original = get(fleet, "origin-1", segment)
    first = get(fleet, "edge-paris", segment)
    second = get(fleet, "edge-paris", segment)
    check(first[0] == 200 and first[1].get("x-cache") == "MISS" and first[2] == original, f"first GET {segment}: MISS, identical bytes")
    check(second[0] == 200 and second[1].get("x-cache") == "HIT", "second GET: HIT from edge-paris's disk")
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                            fleet.base("edge-paris") + "/sample-fmp4/master.m3u8"], capture_output=True, text=True, timeout=60)
    check(probe.returncode == 0 and float(probe.stdout.strip() or 0) > 11, f"ffprobe plays it through edge-paris ({probe.stdout.strip()} s)")

    step("HTTPS: edge-paris over TLS, trusting the fleet's local CA (out/demo/tls/ca.pem)")
    context = ssl.create_default_context(cafile=os.path.join(WORK, "tls/ca.pem"))
    context.set_alpn_protocols(["http/1.1"])
    host, port = fleet.nodes["edge-paris"]["https"].rsplit(":", 1)
    secure = http.client.HTTPSConnection(host, int(port), context=context, timeout=15)
    secure.request("GET", segment)
    response = secure.getresponse()
    body = response.read()
    check(response.status == 200 and body == original,
          f"GET https://{host}:{port}{segment}: {response.status}, {secure.sock.version()}, ALPN {secure.sock.selected_alpn_protocol()}, "
          "identical bytes")
    secure.close()
    # A redirect keeps the viewer's scheme: a Berlin viewer asking the origin over HTTPS is sent to edge-berlin's
    # HTTPS address, and the playlist plays on from there over TLS.
    origin_host, origin_port = fleet.nodes["origin-1"]["https"].rsplit(":", 1)
    routed = http.client.HTTPSConnection(origin_host, int(origin_port), context=context, timeout=15, source_address=("127.0.2.10", 0))
    routed.request("GET", "/sample-fmp4/master.m3u8")
    answer = routed.getresponse()
    answer.read()
    location = answer.getheader("location", "")
    routed.close()
    berlin = "https://" + fleet.nodes["edge-berlin"]["https"]
    check(answer.status == 302 and location.startswith(berlin + "/"), f"GET https://{origin_host}:{origin_port}/sample-fmp4/master.m3u8 "
          f"from Berlin: {answer.status} → {location} (HTTPS kept)")
    target = urllib.parse.urlsplit(location)
    followed = http.client.HTTPSConnection(target.hostname, target.port, context=context, timeout=15, source_address=("127.0.2.10", 0))
    followed.request("GET", target.path + "?" + target.query)
    playlist = followed.getresponse()
    check(playlist.status == 200 and playlist.read().startswith(b"#EXTM3U"), f"followed over TLS: {playlist.status}")
    followed.close()

    step("a mesh peer fill: mesh-turin fetches from the origin, mesh-lyon then takes it from its peer mesh-turin")
    peer_path = "/sample-ts/720p/seg_00000.ts"
    check(get(fleet, "mesh-turin", peer_path)[0] == 200, f"mesh-turin GET {peer_path}")
    check(get(fleet, "mesh-lyon", peer_path)[0] == 200, f"mesh-lyon GET {peer_path}")
    fetched = metric(fleet, "mesh-lyon", 'edgenode_parent_fetches_total{parent="mesh-turin",outcome="ok"}')
    check(fetched >= 1, f"mesh-lyon filled from mesh-turin ({fetched:.0f} verified fetches), not from the origin")
    failover_path = "/sample-ts/720p/seg_00002.ts"
    check(get(fleet, "mesh-lyon", failover_path)[0] == 200, f"mesh-lyon also holds {failover_path}")

    step("the origin stops: edge-paris serves what it holds, stale if it must, and fills from mesh-lyon")
    check(fleet.stop("origin-1") == 0, "origin-1 stopped gracefully (exit 0)")
    check(eventually(lambda: statuses(fleet, "edge-paris").get("origin-1") in ("left", "dead")),
          f"gossip at edge-paris reports origin-1 {statuses(fleet, 'edge-paris').get('origin-1')}")
    # edge-paris's manifest_ttl is 5 s: once it has passed, a request starts a revalidation that cannot succeed, and the
    # playlist is served marked stale meanwhile (stale-if-error).
    time.sleep(6)
    answers = []
    check(eventually(lambda: answers.append(get(fleet, "edge-paris", "/sample-fmp4/720p/index.m3u8")) or
                     (answers[-1][0] == 200 and answers[-1][1].get("x-cache") == "STALE"), 10),
          f"the playlist after the TTL: {answers[-1][0]}, X-Cache {answers[-1][1].get('x-cache')} (stale-if-error)")
    status, headers, body = get(fleet, "edge-paris", failover_path)
    check(status == 200 and len(body) > 0, f"{failover_path}, never on edge-paris: {status}, X-Cache {headers.get('x-cache')}")
    fetched = metric(fleet, "edge-paris", 'edgenode_parent_fetches_total{parent="mesh-lyon",outcome="ok"}')
    check(fetched >= 1, "failover: filled and verified from mesh-lyon, its second parent")
    fleet.start("origin-1")
    fleet.wait_healthy(["origin-1"])
    check(eventually(lambda: statuses(fleet, "edge-paris").get("origin-1") == "alive"), "origin-1 restarted and alive again")

    step("emergency broadcast mode: an operator's signed flag moves viewers from edges to mesh and satellite nodes")
    key = os.path.join(WORK, "operator.key")
    code, out, err = cli("emergency", "on", "--reason", "demo: hosting cut off", "--key", key, "--config", "nodes.conf")
    check(code == 0, f"edgenode emergency on: {out.strip().splitlines()[0] if out.strip() else err.strip()}")
    check(eventually(lambda: all(json.loads(get(fleet, n, "/fleet/emergency")[2])["mode"] == "on" for n in names), 10),
          "every node holds the flag (gossip spread it)")
    status, headers, _ = get(fleet, "edge-paris", "/sample-fmp4/master.m3u8", source="127.0.1.10")
    check(status == 302 and headers.get("location", "").startswith(fleet.base("mesh-lyon")),
          f"a Paris viewer at edge-paris: {status} → {headers.get('location')}")
    code, out, err = cli("emergency", "off", "--reason", "demo: back to normal", "--key", key, "--config", "nodes.conf")
    check(code == 0, "edgenode emergency off")
    check(eventually(lambda: all(json.loads(get(fleet, n, "/fleet/emergency")[2])["mode"] == "off" for n in names), 10),
          "every node back to normal")
    status, _, _ = get(fleet, "edge-paris", "/sample-fmp4/master.m3u8", source="127.0.1.10")
    check(status == 200, f"the Paris viewer is served by edge-paris again ({status})")

    step("royalties: the views edge-paris counted, a tip, a DSP statement, the artist's statement")
    check(eventually(lambda: any(name.startswith("open-") for name in os.listdir(os.path.join(ROOT, "out/fleet/edge-paris/.views"))), 10),
          "edge-paris saved its view counts (salted session keys, no address)")
    admin = open(os.path.join(WORK, "admin.token")).read().strip()
    artist = open(os.path.join(WORK, "artist.token")).read().strip()
    check(eventually(lambda: control("GET", "/v1/checkpoint", admin)[0] in (200, 404), 20), f"the control API answers again at {CONTROL} (its certificate checked against the fleet CA)")
    period = time.strftime("%Y-%m", time.gmtime())
    status, answer = control("POST", "/v1/tips", admin, {"idempotency_key": f"demo/tip/{period}", "artist": "demo-artist",
                                                        "amount": 500, "currency": "EUR", "source": "stripe"})
    check(status in (200, 201), f"POST /v1/tips 5.00 EUR to demo-artist: {status}")
    run = int(time.time())  # each tour's statement lines are new sales (the ledger is kept between tours)
    statement = os.path.join(WORK, f"demo-dsp-{period}.csv")
    with open(statement, "w") as file:
        file.write("SalesTransactionId,ResourceISRC,ContentId,Territory,UseType,Usages,NetRevenue,Currency\r\n"
                   f"{run}-1,FREDG2600002,,FR,Stream,12000,38.40,EUR\r\n{run}-2,,sample-ts,DE,Stream,500,1.60,EUR\r\n")
    code, out, err = cli("royalty", "import", statement, "--dsp", "demo-dsp", "--period", period, "--config", "nodes.conf",
                         "--token-file", os.path.join(WORK, "admin.token"))
    check(code == 0 and "2 booked now" in out, f"edgenode royalty import: {out.strip().splitlines()[0] if out.strip() else err.strip()}")
    status, answer = control("GET", f"/v1/statements/demo-dsp/{period}", admin)
    unmatched = [line["transaction"] for line in (answer or {}).get("unmatched", []) if line["transaction"].startswith(f"{run}-")]
    check(status == 200 and not unmatched, "the reconciliation: both lines matched (by ISRC FR-EDG-26-00002, by content id sample-ts)")
    status, answer = control("GET", f"/v1/artists/demo-artist/statement?period={period}", artist)
    totals = (answer or {}).get("totals", [{}])[0]
    check(status == 200 and totals.get("earned", 0) > 0,
          f"GET /v1/artists/demo-artist/statement?period={period} with the artist's own token: {status}")
    for line in answer.get("lines", []):
        print(f"        {line['source']:<6} {line.get('detail', ''):<10} {line['amount'] / 100:>8.2f} {line['currency']}  entries {line['entries']}")
    print(f"        earned {totals.get('earned', 0) / 100:.2f}, withheld {totals.get('withheld', 0) / 100:.2f}, "
          f"paid {totals.get('paid', 0) / 100:.2f}, closing {totals.get('closing', 0) / 100:.2f} {totals.get('currency')}")
    code, out, err = cli("ledger", "verify", "--url", CONTROL, "--tls-ca", os.path.join(WORK, "tls/ca.pem"),
                         "--token-file", os.path.join(WORK, "admin.token"),
                         "--pubkey", os.path.join(WORK, "origin.pub"))
    check(code == 0, f"edgenode ledger verify: {out.strip().splitlines()[-1] if out.strip() else err.strip()}")


def main():
    fleet = Fleet(quiet=True)
    for name in fleet.nodes:
        if fleet.nodes[name]["role"] != "origin":
            subprocess.run(["rm", "-rf", os.path.join(ROOT, "out/fleet", name)], check=True)
    for name in fleet.nodes:
        fleet.start(name)
    try:
        fleet.wait_healthy(list(fleet.nodes))
        tour(fleet)
    except SystemExit as error:
        print(error, file=sys.stderr)
    except Exception as error:  # a step that could not even be checked (a node that does not answer)
        global failures
        failures += 1
        print(f"demo step failed: {error!r}", file=sys.stderr)
    step("stopping every node (SIGTERM)")
    statuses_ = fleet.stop_all()
    for name, status in statuses_.items():
        check(status == 0, f"{name} stopped gracefully (exit {status})") if failures == 0 else print(f"   {name}: exit {status}")
    print(f"== demo {'passed: every step checked' if failures == 0 else f'FAILED ({failures})'}; logs in out/logs/")
    sys.exit(0 if failures == 0 else 1)


if __name__ == "__main__":
    main()
