#!/usr/bin/env bash
# HTTPS benchmark: edgenode serve --https vs nginx (1 worker, ssl) with the same certificate, protocol and cipher,
# alternating in one run: playlist GETs, 64 KiB ranges, whole segments, and full handshakes per second (a new
# connection per request). No kTLS here, so neither can use sendfile under TLS. bench/serve.sh does the work.
#   bench/tls.sh [RUNS] [SECONDS]      (default 3 runs of 10 s)
TLS=1 exec "$(dirname "$0")/serve.sh" "$@"
