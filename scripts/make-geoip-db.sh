#!/usr/bin/env bash
# Writes a small MaxMind-format (GeoIP2-City shaped) database for tests: each argument is
# NETWORK=LATITUDE,LONGITUDE,ACCURACY_RADIUS_KM. Uses mmdb-writer (PyPI, pinned) in a venv under .build/tools.
#   scripts/make-geoip-db.sh OUT.mmdb 127.1.2.3/32=52.52,13.40,20 ...
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build/tools/mmdb-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import mmdb_writer" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check mmdb-writer==0.2.7
fi
"$venv/bin/python" - "$@" <<'PY'
import sys
from mmdb_writer import MMDBWriter, MmdbF64, MmdbU16
from netaddr import IPSet
out, entries = sys.argv[1], sys.argv[2:]
writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoIP2-City", languages=["en"],
                    description="edgenode test database")
for entry in entries:
    network, values = entry.split("=")
    latitude, longitude, radius = values.split(",")
    writer.insert_network(IPSet([network]), {"location": {"latitude": MmdbF64(float(latitude)), "longitude": MmdbF64(float(longitude)),
                                                         "accuracy_radius": MmdbU16(int(radius))}})
writer.to_db_file(out)
PY
