#!/usr/bin/env bash
# Eviction policy study for the edge disk cache: LRU vs S3-FIFO on seeded Zipf traces (α 0.8/1.0/1.2), with and
# without 30 % one-hit wonders, caches of 1-20 % of the catalog. Same trace for both policies.
#   bench/eviction.sh [REQUESTS]     (default 600000 per run)
set -euo pipefail
cd "$(dirname "$0")/.."
swift run -c release cache-policy-bench "${1:-600000}"
