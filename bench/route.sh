#!/usr/bin/env bash
# Routing benchmark, part 1 (pure, in-process): decisions per second of the routing policy at 1,000 nodes and
# 10,000 coverage zones (and for an 8-node metro group), zone lookups per second, and the byte hit ratio of a 3-edge
# group with rendezvous hashing vs round-robin at the same total cache size (S3-FIFO, seeded Zipf trace).
#   bench/route.sh [DECISIONS]      (default 20000 decisions at 1,000 nodes)
set -euo pipefail
cd "$(dirname "$0")/.."
swift run -c release route-bench "${1:-20000}"
