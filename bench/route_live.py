#!/usr/bin/env python3
"""Real-process part of bench/route.sh: N `edgenode serve` processes (an origin holding a published clip and N-1
edges, spread over the globe) gossiping and routing on 127.0.x.y, probe interval 1 s.

1. Redirects vs hits on one live edge: wrk asks node-1 for the clip's master playlist as a viewer whose zone is at
   node-2 (every answer a 302) and, alternating, with the loop guard `?edgenode_routed=1` (every answer a 200 hit of
   the same playlist from node-1's cache). Same process, same connection count, RUNS runs of SECONDS each.
2. Failover: each trial kills with SIGKILL the node a zone's viewer is routed to and polls every other node's
   /route/clip as that viewer (source address bound to the zone's address) every 100 ms, until every node names
   another node; the time until gossip has declared it dead everywhere is recorded too. The victim is restarted and
   routed to again before the next trial.

   route_live.py BINARY WORK N TRIALS RUNS SECONDS"""
import http.client, json, os, re, signal, subprocess, sys, time

from fleet_processes import start_node, stop_all

binary, work, size, trials, runs, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
hosts = [f"127.0.{50 + i // 250}.{i % 250 + 2}" for i in range(size)]
viewers = [f"127.0.{60 + i // 250}.{i % 250 + 2}" for i in range(size)]
http_port, gossip_port = 18400, 17948
recovery = 2


def location(i):
    return (-60 + (i * 37) % 120, -170 + (i * 71) % 340)


lines = ['[fleet]', 'name = "route-bench"', f'gossip_keyring = "{work}/gossip.keyring"', 'gossip_seeds = ["node-0", "node-1"]',
         '', '[routing]', f'recovery_seconds = {recovery}']
for i in range(size):
    lat, lon = location(i)
    networks = [f'"{viewers[i]}/32"'] + (['"127.0.0.1/32"'] if i == 2 else [])
    lines += ['', '[[zone]]', f'name = "z{i}"', f'networks = [{", ".join(networks)}]', f'latitude = {lat}', f'longitude = {lon}']
for i, host in enumerate(hosts):
    lat, lon = location(i)
    lines += ['', '[[node]]', f'name = "node-{i}"', f'role = "{"origin" if i == 0 else "edge"}"', 'region = "bench"',
              f'latitude = {lat}', f'longitude = {lon}', f'http = "{host}:{http_port}"', f'gossip = "{host}:{gossip_port}"', 'threads = 1']
    if i == 0:
        lines.append(f'content = "{work}/origin-content"')
    else:
        lines += [f'content = "{work}/cache-{i}"', 'parents = ["node-0"]', f'origin_key = "{work}/origin.pub"', 'prefetch = 0']
with open(f"{work}/nodes.conf", "w") as f:
    f.write("\n".join(lines) + "\n")

processes = {}


def start(i):
    processes[i] = start_node(binary, work, i)


def get(host, path, source=None):
    connection = http.client.HTTPConnection(host, http_port, timeout=1, source_address=(source, 0) if source else None)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    except OSError:
        return None, b""
    finally:
        connection.close()


def routed_to(node, viewer):
    status, body = get(hosts[node], "/route/clip", viewer)
    if status != 200:
        return None
    candidates = json.loads(body)["candidates"]
    return candidates[0]["name"] if candidates else None


def statuses(node):
    status, body = get(hosts[node], "/cluster")
    return {m["name"]: m["status"] for m in json.loads(body)["members"]} if status == 200 else None


def wait(condition, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def wrk(url):
    out = subprocess.run(["wrk", "-t1", "-c32", f"-d{seconds}s", url], capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, int(bad.group(1)) if bad else 0


try:
    for i in range(size):
        start(i)
    everyone = range(size)
    if not wait(lambda: all((s := statuses(i)) and all(s.get(f"node-{j}") == "alive" for j in everyone) for i in everyone), 90):
        sys.exit("the fleet did not converge")
    if not wait(lambda: all(routed_to(i, viewers[v]) == f"node-{v}" for i in everyone for v in (2, 3)), 30):
        sys.exit("viewers are not routed to their zone's node")

    print(f"== redirects vs hits on node-1 (wrk -t1 -c32 -d{seconds}s, {runs} runs, alternating)")
    status, _ = get(hosts[1], "/clip/master.m3u8")
    hit_status, _ = get(hosts[1], "/clip/master.m3u8?edgenode_routed=1")
    if status != 302 or hit_status != 200:
        sys.exit(f"expected 302 and 200, got {status} and {hit_status}")
    redirects, hits = [], []
    for run in range(runs):
        rate, bad = wrk(f"http://{hosts[1]}:{http_port}/clip/master.m3u8")
        redirects.append(rate)
        rate_hit, bad_hit = wrk(f"http://{hosts[1]}:{http_port}/clip/master.m3u8?edgenode_routed=1")
        hits.append(rate_hit)
        print(f"run {run + 1}: 302 {rate:,.0f}/s  hit {rate_hit:,.0f}/s  ratio {rate / rate_hit:.2f}  (non-2xx/3xx: {bad}, {bad_hit})")
    redirects.sort(), hits.sort()
    print(f"median: 302 {redirects[runs // 2]:,.0f}/s, hit {hits[runs // 2]:,.0f}/s -> a 302 costs "
          f"{hits[runs // 2] / redirects[runs // 2]:.2f}x a hit")

    print(f"\n== failover, N={size}: kill -9 the node a zone's viewers are routed to")
    failovers, deaths = [], []
    for trial in range(trials):
        victim = 3 + (trial * 5) % (size - 3)
        viewer = viewers[victim]
        others = [i for i in everyone if i != victim]
        if not wait(lambda: all(routed_to(i, viewer) == f"node-{victim}" for i in others), 30):
            sys.exit(f"node-{victim} is not routed to before trial {trial + 1}")
        killed = time.time()
        processes[victim].send_signal(signal.SIGKILL)
        processes[victim].wait()
        moved, dead = {}, {}
        while (len(moved) < len(others) or len(dead) < len(others)) and time.time() - killed < 30:
            for i in others:
                if i not in moved:
                    choice = routed_to(i, viewer)
                    if choice is not None and choice != f"node-{victim}":
                        moved[i] = time.time() - killed
                if i not in dead:
                    s = statuses(i)
                    if s and s.get(f"node-{victim}") == "dead":
                        dead[i] = time.time() - killed
            time.sleep(0.1)
        all_moved = max(moved.values()) if len(moved) == len(others) else None
        all_dead = max(dead.values()) if len(dead) == len(others) else None
        failovers.append(all_moved if all_moved is not None else float("inf"))
        deaths.append(all_dead if all_dead is not None else float("inf"))
        print(f"trial {trial + 1}: node-{victim}: every node routes elsewhere after {all_moved or float('inf'):.2f} s; "
              f"declared dead by every node after {all_dead or float('inf'):.2f} s")
        start(victim)
        if not wait(lambda: all((s := statuses(i)) and s.get(f"node-{victim}") == "alive" for i in others), 60):
            sys.exit("the victim did not rejoin")
    failovers.sort(), deaths.sort()
    print(f"N={size}, {trials} trials: routing failover median {failovers[trials // 2]:.2f} s, max {failovers[-1]:.2f} s; "
          f"gossip death everywhere median {deaths[trials // 2]:.2f} s, max {deaths[-1]:.2f} s")
finally:
    stop_all(processes)
