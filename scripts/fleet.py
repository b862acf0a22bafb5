#!/usr/bin/env python3
"""The whole fleet of nodes.conf on this machine: every node as its own `edgenode serve` process, its log in
out/logs/NODE.log, one concise terminal line per notable event (notice and above, members suspected, dead or gone).

`make run` runs this file: it starts every node, prints what to open, and keeps the fleet up until Ctrl-C (or SIGTERM,
or the terminal closing: SIGHUP), then stops every node gracefully (SIGTERM: drain, leave gossip, exit 0) and says so.
No node outlives its supervisor: each is started with a parent-death signal (SIGTERM when this process dies, even by
SIGKILL), and a failing write to the terminal (a closed pipe: `make run | tee log` and Ctrl-C) never skips the stop.
`scripts/demo.py` uses the `Fleet` class. `--config FILE` runs another fleet file."""
import argparse
import ctypes
import os
import re
import signal
import subprocess
import sys
import threading
import time
import tomllib
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LEVELS = ("trace", "debug", "info", "notice", "warning", "error", "critical")
PR_SET_PDEATHSIG = 1


def tell(*args, **kwargs):
    """print, but a closed terminal or pipe is no reason to stop supervising (nor to leave nodes running)."""
    try:
        print(*args, **kwargs)
    except (OSError, ValueError):
        pass


def die_with_parent(parent):
    """Runs in the child before exec: SIGTERM when the supervisor dies; and if it already died, exit at once."""
    def arm():
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)
    return arm


class Fleet:
    def __init__(self, config="nodes.conf", binary=".build/debug/edgenode", logs="out/logs", quiet=False):
        self.config = os.path.join(ROOT, config)
        self.binary = os.path.join(ROOT, binary)
        self.logs = os.path.join(ROOT, logs)
        self.quiet = quiet
        with open(self.config, "rb") as file:
            parsed = tomllib.load(file)
        self.nodes = {node["name"]: node for node in parsed["node"]}
        self.processes = {}
        self.lock = threading.Lock()
        self.stopping = False
        os.makedirs(self.logs, exist_ok=True)

    def base(self, name):
        """The node's HTTP base URL."""
        return "http://" + self.nodes[name]["http"]

    def start(self, name):
        log = open(os.path.join(self.logs, name + ".log"), "a", buffering=1)
        # A session of its own: the terminal's Ctrl-C reaches this supervisor only, which then stops each node itself;
        # the parent-death signal stops the node if the supervisor dies without doing so.
        process = subprocess.Popen([self.binary, "serve", "--config", self.config, "--node", name, "--log-format", "text"],
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                                   start_new_session=True, preexec_fn=die_with_parent(os.getpid()))
        self.processes[name] = process
        threading.Thread(target=self._follow, args=(name, process, log), daemon=True).start()

    def _follow(self, name, process, log):
        for line in process.stderr:
            log.write(line)
            if not self.quiet and self.notable(line) and not (self.stopping and " member " in line):
                self.say(name, self.concise(line))
        log.close()

    @staticmethod
    def notable(line):
        parts = line.split(" ", 3)
        if len(parts) < 4 or parts[1] not in LEVELS:
            return True  # not a log line: a crash message, say it
        if LEVELS.index(parts[1]) >= LEVELS.index("notice"):
            return True
        message = parts[3].split(": ", 1)[-1]
        return message.startswith(("member suspect", "member dead", "member left"))

    @staticmethod
    def concise(line):
        parts = line.rstrip("\n").split(" ", 3)
        if len(parts) < 4 or parts[1] not in LEVELS:
            return line.rstrip("\n")
        level = "" if parts[1] in ("info", "notice") else parts[1].upper() + " "
        return level + re.sub(r" role=\S+", "", parts[3].split(": ", 1)[-1])

    def say(self, name, text):
        with self.lock:
            tell(f"{time.strftime('%H:%M:%S')} {name:<13} {text}", flush=True)

    def healthy(self, name):
        try:
            with urllib.request.urlopen(self.base(name) + "/healthz", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    def wait_healthy(self, names, timeout=60):
        deadline = time.time() + timeout
        pending = list(names)
        while pending and time.time() < deadline:
            for name in list(pending):
                if self.processes[name].poll() is not None:
                    raise RuntimeError(f"{name} exited with {self.processes[name].returncode} (see {self.logs}/{name}.log)")
                if self.healthy(name):
                    pending.remove(name)
            time.sleep(0.1)
        if pending:
            raise RuntimeError(f"not answering after {timeout} s: {', '.join(pending)} (see {self.logs}/)")

    def stop(self, name, timeout=30):
        """SIGTERM, then the exit status (None if it had to be killed)."""
        process = self.processes.pop(name)
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return None

    def stop_all(self):
        self.stopping = True
        return {name: self.stop(name) for name in list(reversed(list(self.processes)))}


def main():
    parser = argparse.ArgumentParser(description="Runs every node of a fleet file until Ctrl-C.")
    parser.add_argument("--config", default="nodes.conf", help="the fleet file (default: nodes.conf)")
    arguments = parser.parse_args()
    # A plain flag: a handler that took a lock (Event.set) could deadlock with the main thread holding it.
    stop = []
    stopping = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    for number in stopping:
        signal.signal(number, lambda *_: stop.append(True))
    # A parent may have started this process with those signals blocked (a mask is inherited): they must arrive.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, stopping)
    fleet = Fleet(config=arguments.config)
    failed = False
    try:
        supervise(fleet, stop)
    except RuntimeError as error:
        tell(f"error: {error}", file=sys.stderr, flush=True)
        failed = True
    finally:
        tell("\n== stopping every node (SIGTERM: in-flight responses finish, gossip is told)", flush=True)
        statuses = fleet.stop_all()
        for name, status in statuses.items():
            tell(f"   {name:<13} {'stopped gracefully (exit 0)' if status == 0 else f'exit {status}'}", flush=True)
    sys.exit(0 if not failed and all(status == 0 for status in statuses.values()) else 1)


def supervise(fleet, stop):
    """Starts every node, says what to open, and watches them until `stop` is set."""
    names = list(fleet.nodes)
    tell(f"== starting every node of {os.path.basename(fleet.config)}: {', '.join(names)} (logs in {fleet.logs}/)", flush=True)
    for name in names:
        fleet.start(name)
    fleet.wait_healthy(names)
    origin = next(name for name, node in fleet.nodes.items() if node["role"] == "origin")
    control = fleet.nodes[origin].get("control")
    tell(f"""
== the fleet is up ({len(names)} nodes). Open:
   play (routed to the nearest healthy edge):  ffplay {fleet.base(origin)}/sample-fmp4/master.m3u8
                                               (or mpv / VLC with the same URL)
   over HTTPS (trust out/demo/tls/ca.pem):      https://{fleet.nodes[origin].get("https", "(no https in nodes.conf)")}/sample-fmp4/master.m3u8
   steered playlist (HLS Content Steering):    {fleet.base(origin)}/sample-fmp4/steered.m3u8
   status page (the fleet, a map, emergency history, routing decisions): {fleet.base(origin)}/status
   the fleet as {origin} sees it, as JSON:      {fleet.base(origin)}/cluster   or   .build/debug/edgenode status --config nodes.conf --node {origin}
   metrics of any node:                        {fleet.base(origin)}/metrics
   control API (admin token in out/demo/admin.token): {"https" if fleet.nodes[origin].get("tls_cert") else "http"}://{control}/v1/checkpoint
                                               curl --cacert out/demo/tls/ca.pem -H "Authorization: Bearer $(cat out/demo/admin.token)" …
   emergency mode: .build/debug/edgenode emergency on --reason test --key out/demo/operator.key --config nodes.conf
Ctrl-C stops every node gracefully.
""", flush=True)
    while not stop:
        for name, process in list(fleet.processes.items()):
            if process.poll() is not None:
                fleet.say(name, f"EXITED with status {process.returncode} (see {fleet.logs}/{name}.log)")
                fleet.processes.pop(name)
        time.sleep(0.2)


if __name__ == "__main__":
    main()
