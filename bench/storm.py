#!/usr/bin/env python3
"""Miss-storm client for bench/fill.sh: opens N connections, sends one GET on each as close together as possible,
then reads every response, recording time to first byte and total time from each request's send. Prints one JSON
object. Every byte is checked against the expected length (and the status against 200/206)."""
import json, selectors, socket, sys, time

def storm(host, port, path, viewers, headers=(), timeout=60.0):
    sockets = []
    for _ in range(viewers):
        s = socket.create_connection((host, port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sockets.append(s)
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n" + "".join(h + "\r\n" for h in headers) + "Connection: close\r\n\r\n"
    data = request.encode()
    sent = {}
    for s in sockets:
        sent[s] = time.perf_counter()
        s.sendall(data)
    selector = selectors.DefaultSelector()
    state = {}
    for s in sockets:
        s.setblocking(False)
        selector.register(s, selectors.EVENT_READ)
        state[s] = {"first": None, "buf": b"", "head": None, "length": None, "body": 0, "done": None}
    deadline = time.perf_counter() + timeout
    open_count = len(sockets)
    # Phase 1: only look for first bytes (small reads, a socket leaves the selector once it has spoken), so that a
    # late socket's TTFB is not inflated by the client reading megabytes from the others first. The kernel buffers
    # what arrives meanwhile.
    waiting_first = len(sockets)
    while waiting_first and time.perf_counter() < deadline:
        for key, _ in selector.select(timeout=1.0):
            s = key.fileobj
            st = state[s]
            chunk = s.recv(65536)
            st["first"] = time.perf_counter()
            st["buf"] = chunk
            selector.unregister(s)
            waiting_first -= 1
    for s in sockets:
        st = state[s]
        if st["first"] is None:
            continue
        end = st["buf"].find(b"\r\n\r\n")
        if end < 0:
            selector.register(s, selectors.EVENT_READ)
            continue
        st["head"] = st["buf"][:end].decode("latin-1")
        st["body"] = len(st["buf"]) - end - 4
        for line in st["head"].split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                st["length"] = int(value.strip())
        if st["length"] is not None and st["body"] >= st["length"]:
            st["done"] = st["first"]
            s.close()
            open_count -= 1
        else:
            selector.register(s, selectors.EVENT_READ)
    # Phase 2: read the rest.
    while open_count and time.perf_counter() < deadline:
        for key, _ in selector.select(timeout=1.0):
            s = key.fileobj
            st = state[s]
            chunk = s.recv(1 << 20)
            now = time.perf_counter()
            if st["head"] is None:
                st["buf"] += chunk
                end = st["buf"].find(b"\r\n\r\n")
                if end >= 0:
                    st["head"] = st["buf"][:end].decode("latin-1")
                    st["body"] = len(st["buf"]) - end - 4
                    st["buf"] = b""
                    for line in st["head"].split("\r\n")[1:]:
                        name, _, value = line.partition(":")
                        if name.lower() == "content-length":
                            st["length"] = int(value.strip())
            else:
                st["body"] += len(chunk)
            if not chunk or (st["length"] is not None and st["body"] >= st["length"]):
                st["done"] = now
                selector.unregister(s)
                s.close()
                open_count -= 1
    results = []
    for s in sockets:
        st = state[s]
        status = int(st["head"].split(" ")[1]) if st["head"] else 0
        ok = status in (200, 206) and st["length"] is not None and st["body"] == st["length"] and st["done"] is not None
        cache = next((l.split(":", 1)[1].strip() for l in (st["head"] or "").split("\r\n") if l.lower().startswith("x-cache:")), "")
        results.append({"ok": ok, "status": status, "ttfb": (st["first"] - sent[s]) if st["first"] else None,
                        "total": (st["done"] - sent[s]) if st["done"] else None, "bytes": st["body"], "xcache": cache})
    return results

def percentile(values, p):
    values = sorted(values)
    if not values:
        return None
    index = min(len(values) - 1, max(0, int(round(p / 100.0 * len(values) + 0.5)) - 1))
    return values[index]

def summary(results):
    ttfb = [r["ttfb"] * 1000 for r in results if r["ttfb"] is not None]
    total = [r["total"] * 1000 for r in results if r["total"] is not None]
    caches = {}
    for r in results:
        caches[r["xcache"] or "-"] = caches.get(r["xcache"] or "-", 0) + 1
    return {"requests": len(results), "ok": sum(r["ok"] for r in results),
            "ttfb_p50_ms": percentile(ttfb, 50), "ttfb_p99_ms": percentile(ttfb, 99), "ttfb_max_ms": max(ttfb) if ttfb else None,
            "total_p50_ms": percentile(total, 50), "total_p99_ms": percentile(total, 99), "x_cache": caches}

if __name__ == "__main__":
    # storm.py HOST PORT PATH VIEWERS [HEADER...]: VIEWERS concurrent requests.
    # storm.py --serial HOST PORT PATH COUNT: COUNT requests one after another (an upstream's own TTFB).
    if sys.argv[1] == "--serial":
        host, port, path, count = sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
        print(json.dumps(summary([storm(host, port, path, 1)[0] for _ in range(count)])))
    else:
        host, port, path, viewers = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
        print(json.dumps(summary(storm(host, port, path, viewers, headers=sys.argv[5:]))))
