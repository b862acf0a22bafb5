"""What the real-process benchmarks share: stopping every node they started."""
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
