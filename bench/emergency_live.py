#!/usr/bin/env python3
"""Real-process part of bench/emergency.sh: N `edgenode serve` processes (node-0 the origin holding a published clip;
then edges, mesh nodes and satellites, a quarter each roughly) gossiping on 127.0.x.y.

1. Flip time: each trial runs `edgenode emergency on --node node-1` (an edge), then `off`; from the moment the
   command starts, one thread per node polls GET /fleet/emergency and GET /route/clip every 25 ms until the node
   reports the new epoch and mode and its first candidate has the expected role. The flip time is the slowest node's.
2. Playback: a player model plays the clip from a routing URL on the origin, as a viewer in a zone near the mesh
   nodes, while the fleet flips on (at 8 s) and off (at 24 s); stalls are measured against real time.

   emergency_live.py BINARY WORK N TRIALS"""
import http.client, json, statistics, subprocess, sys, threading, time
from urllib.parse import urljoin, urlsplit

from fleet_processes import start_node, stop_all

binary, work, size, trials = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
hosts = [f"127.0.{70 + i // 250}.{i % 250 + 2}" for i in range(size)]
viewer = "127.0.80.2"
http_port, gossip_port = 18800, 17980


def role(i):
    if i == 0:
        return "origin"
    if i < size * 3 // 8:
        return "edge"
    if i < size * 7 // 8:
        return "mesh"
    return "satellite"


def location(i):
    return (40 + (i * 7) % 20, -5 + (i * 11) % 30)


lines = ['[fleet]', 'name = "emergency-bench"', f'gossip_keyring = "{work}/gossip.keyring"', 'gossip_seeds = ["node-0", "node-1"]',
         f'operator_keys = ["{work}/operator.pub"]', '', '[routing]', 'recovery_seconds = 0',
         '', '[[zone]]', 'name = "viewers"', f'networks = ["{viewer}/32"]', 'latitude = 48.85', 'longitude = 2.35']
mesh = [i for i in range(size) if role(i) == "mesh"]
for i, host in enumerate(hosts):
    lat, lon = location(i)
    lines += ['', '[[node]]', f'name = "node-{i}"', f'role = "{role(i)}"', 'region = "bench"',
              f'latitude = {lat}', f'longitude = {lon}', f'http = "{host}:{http_port}"', f'gossip = "{host}:{gossip_port}"', 'threads = 1']
    if i == 0:
        lines.append(f'content = "{work}/origin-content"')
    else:
        parents = ([f'"node-{m}"' for m in mesh if m != i][:2] if role(i) == "mesh" else []) + ['"node-0"']
        lines += [f'content = "{work}/cache-{i}"', f'parents = [{", ".join(parents)}]', f'origin_key = "{work}/origin.pub"', 'prefetch = 1']
with open(f"{work}/nodes.conf", "w") as f:
    f.write("\n".join(lines) + "\n")


def get(host, path, source=None, port=http_port, timeout=1):
    connection = http.client.HTTPConnection(host, port, timeout=timeout, source_address=(source, 0) if source else None)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.getheader("Location"), response.read()
    except OSError:
        return None, None, b""
    finally:
        connection.close()


def state(i):
    """(epoch, mode, role of the first routing candidate) at node i, or None."""
    status, _, body = get(hosts[i], "/fleet/emergency")
    route_status, _, route = get(hosts[i], "/route/clip", viewer)
    if status != 200 or route_status != 200:
        return None
    flag, candidates = json.loads(body), json.loads(route)["candidates"]
    return flag["epoch"], flag["mode"], candidates[0]["role"] if candidates else None


def emergency(mode):
    return subprocess.run([binary, "emergency", mode, "--reason", "bench", "--key", f"{work}/operator.key",
                           "--config", f"{work}/nodes.conf", "--node", "node-1"], capture_output=True, text=True)


def flip(mode, epoch):
    """Runs the command and returns (seconds until every node reports and routes by the new mode, command seconds)."""
    expected_roles = {"mesh", "satellite"} if mode == "on" else {"edge"}
    done = {}
    start = time.time()
    stop = threading.Event()

    def watch(i):
        while not stop.is_set() and time.time() - start < 30:
            s = state(i)
            if s and s[0] == epoch and s[1] == mode and s[2] in expected_roles:
                done[i] = time.time() - start
                return
            time.sleep(0.025)

    threads = [threading.Thread(target=watch, args=(i,)) for i in range(size)]
    for t in threads:
        t.start()
    result = emergency(mode)
    command = time.time() - start
    if result.returncode != 0:
        stop.set()
        sys.exit(f"edgenode emergency {mode} failed: {result.stdout} {result.stderr}")
    for t in threads:
        t.join()
    if len(done) < size:
        sys.exit(f"{size - len(done)} nodes never reported mode {mode} at epoch {epoch}")
    return max(done.values()), command


def play(duration, flips):
    """Plays `duration` seconds of the clip from a routing URL; runs each (at, mode) flip in the background at its
    time. Returns (startup, stalls, redirects followed, segments)."""
    def fetch(url):
        redirects = 0
        for _ in range(5):
            parts = urlsplit(url)
            status, location, body = get(parts.hostname, parts.path + ("?" + parts.query if parts.query else ""), viewer,
                                         port=parts.port, timeout=10)
            if status in (301, 302, 307):
                url, redirects = urljoin(url, location), redirects + 1
                continue
            if status != 200:
                raise RuntimeError(f"{url}: {status}")
            return url, body, redirects
        raise RuntimeError(f"{url}: too many redirects")

    began = time.time()
    followed = 0
    master_url, master, r = fetch(f"http://{hosts[0]}:{http_port}/clip/master.m3u8")
    followed += r
    variant = next(line for line in master.decode().splitlines() if line and not line.startswith("#"))
    media_url, media, r = fetch(urljoin(master_url, variant))
    followed += r
    segments, duration_of = [], None
    for line in media.decode().splitlines():
        if line.startswith("#EXTINF:"):
            duration_of = float(line[8:].split(",")[0])
        elif line and not line.startswith("#"):
            segments.append((urljoin(media_url, line), duration_of))
    timers = [threading.Timer(at, lambda m=mode: emergency(m)) for at, mode in flips]
    buffered, playing_since, played_before, stalls, stall_began = 0.0, None, 0.0, [], None
    startup = None
    for url, seconds in segments:
        if played_before + buffered >= duration:
            break
        # Wait while the buffer holds 3 segments or more (the player does not fetch further ahead).
        while playing_since is not None and buffered - (time.time() - playing_since) >= 3 * seconds:
            time.sleep(0.01)
        _, _, r = fetch(url)
        followed += r
        now = time.time()
        if playing_since is None:
            startup = now - began
            playing_since, buffered = now, seconds
            for t in timers:
                t.start()
            continue
        position = now - playing_since
        if position > buffered:
            # The playhead reached the end of the buffer before this segment arrived: a stall of the difference.
            stalls.append(position - buffered)
            playing_since += position - buffered
        buffered += seconds
    for t in timers:
        t.join()
    return startup, stalls, followed, len(segments), segments[0][1]


processes = {}
try:
    for i in range(size):
        processes[i] = start_node(binary, work, i)
    deadline = time.time() + 90
    while time.time() < deadline:
        views = [get(h, "/cluster") for h in hosts]
        if all(s == 200 and all(m["status"] == "alive" for m in json.loads(b)["members"]) and len(json.loads(b)["members"]) == size
               for s, _, b in views):
            break
        time.sleep(0.5)
    else:
        sys.exit("the fleet did not converge")
    roles = {r: sum(1 for i in range(size) if role(i) == r) for r in ("origin", "edge", "mesh", "satellite")}
    print(f"== flip time, N={size} ({roles}), command handed to one edge, {trials} trials of on then off")
    ons, offs, commands = [], [], []
    epoch = 0
    for trial in range(trials):
        epoch += 1
        on, command_on = flip("on", epoch)
        epoch += 1
        off, command_off = flip("off", epoch)
        ons.append(on)
        offs.append(off)
        commands += [command_on, command_off]
        print(f"trial {trial + 1}: on {on:.2f} s, off {off:.2f} s (the command itself took {command_on:.2f} s and {command_off:.2f} s)")
    print(f"on:  median {statistics.median(ons):.2f} s, max {max(ons):.2f} s")
    print(f"off: median {statistics.median(offs):.2f} s, max {max(offs):.2f} s")
    print(f"command (read epochs from {size} nodes, sign, post): median {statistics.median(commands):.2f} s")

    print("\n== playback across a flip: 40 s played from a routing URL, on at 8 s, off at 24 s")
    startup, stalls, followed, count, seconds = play(40, [(8, "on"), (24, "off")])
    longest = max(stalls) if stalls else 0.0
    print(f"segments of {seconds:.1f} s, {count} in the playlist, {followed} redirects followed, startup {startup:.2f} s")
    print(f"stalls: {len(stalls)}, total {sum(stalls):.3f} s, longest {longest:.3f} s "
          f"({'within' if longest <= seconds else 'LONGER than'} one segment)")
finally:
    stop_all(processes)
