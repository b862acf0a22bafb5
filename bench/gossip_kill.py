#!/usr/bin/env python3
"""Real-process part of bench/gossip.sh: N `edgenode serve` processes gossiping on 127.0.0.N (probe interval 1 s).
Each trial kills one member with SIGKILL and measures, by polling every member's /cluster every 100 ms, how long
until every other member has declared it dead. The victim is restarted (it rejoins) before the next trial."""
import json, os, signal, subprocess, sys, tempfile, time, urllib.request

from fleet_processes import start_node, stop_all

binary, size, trials = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
work = tempfile.mkdtemp(prefix="edgenode-gossip-bench-")
hosts = [f"127.0.{40 + i // 250}.{i % 250 + 2}" for i in range(size)]
http_port, gossip_port = 18300, 17947

subprocess.run([binary, "gossip-key", "generate", "--keyring", f"{work}/gossip.keyring"], check=True, stdout=subprocess.DEVNULL)
subprocess.run([binary, "keygen", "--out", f"{work}/origin"], check=True, stdout=subprocess.DEVNULL)
os.makedirs(f"{work}/origin-content")
lines = ['[fleet]', 'name = "bench"', f'gossip_keyring = "{work}/gossip.keyring"', 'gossip_seeds = ["node-0", "node-1"]']
for i, host in enumerate(hosts):
    lines += ["", "[[node]]", f'name = "node-{i}"', f'role = "{"origin" if i == 0 else "edge"}"', 'region = "bench"',
              "latitude = 0", "longitude = 0", f'http = "{host}:{http_port}"', f'gossip = "{host}:{gossip_port}"', "threads = 1"]
    if i == 0:
        lines.append(f'content = "{work}/origin-content"')
    else:
        lines += [f'content = "{work}/cache-{i}"', 'parents = ["node-0"]', f'origin_key = "{work}/origin.pub"']
with open(f"{work}/nodes.conf", "w") as f:
    f.write("\n".join(lines) + "\n")

processes = {}

def start(i):
    processes[i] = start_node(binary, work, i)

def view(i):
    try:
        with urllib.request.urlopen(f"http://{hosts[i]}:{http_port}/cluster", timeout=1) as response:
            return {m["name"]: m["status"] for m in json.load(response)["members"]}
    except Exception:
        return None

def local_health(i):
    try:
        with urllib.request.urlopen(f"http://{hosts[i]}:{http_port}/cluster", timeout=1) as response:
            return json.load(response)["localHealthMultiplier"]
    except Exception:
        return None


def converged(alive, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        views = [view(i) for i in alive]
        if all(v and all(v.get(f"node-{j}") == "alive" for j in alive) for v in views):
            return True
        time.sleep(0.2)
    return False

try:
    for i in range(size):
        start(i)
    if not converged(range(size)):
        sys.exit("the cluster did not converge")
    results = []
    for trial in range(trials):
        victim = 2 + (trial * 7) % (size - 2)
        raised = sum(1 for i in range(size) if (local_health(i) or 0) > 0)
        killed = time.time()
        processes[victim].send_signal(signal.SIGKILL)
        processes[victim].wait()
        others = [i for i in range(size) if i != victim]
        declared = {}
        while len(declared) < len(others) and time.time() - killed < 60:
            for i in others:
                if i not in declared:
                    v = view(i)
                    if v and v.get(f"node-{victim}") == "dead":
                        declared[i] = time.time() - killed
            time.sleep(0.1)
        times = sorted(declared.values())
        all_dead = times[-1] if len(times) == len(others) else None
        results.append(all_dead)
        print(f"trial {trial + 1}: killed node-{victim}; first declared dead after {times[0]:.2f} s, "
              f"by every member after {all_dead:.2f} s ({raised} members had a raised local health multiplier)" if all_dead else f"trial {trial + 1}: not declared dead by all within 60 s")
        start(victim)
        if not converged(range(size)):
            sys.exit("the cluster did not reconverge after the restart")
    done = sorted(r for r in results if r is not None)
    if done:
        print(f"N={size}: time until every member declared the killed one dead: median {done[len(done) // 2]:.2f} s, "
              f"max {done[-1]:.2f} s over {len(done)} trials")
finally:
    stop_all(processes)
    subprocess.run(["rm", "-rf", work])
