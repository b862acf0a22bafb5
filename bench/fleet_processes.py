"""What the real-process benchmarks share: starting a node of their fleet, stopping every node they started."""
import subprocess


def stop_all(processes):
    """SIGTERM to every node still running, then SIGKILL to any that has not exited within 10 s."""
    for p in processes.values():
        if p.poll() is None:
            p.terminate()
    for p in processes.values():
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


def start_node(binary, work, i):
    """`edgenode serve` for node-i of the fleet in WORK/nodes.conf, quiet."""
    return subprocess.Popen([binary, "serve", "--config", f"{work}/nodes.conf", "--node", f"node-{i}", "--log-level", "warning"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
