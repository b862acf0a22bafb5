#!/usr/bin/env bash
# Fetches the ISO 20022 pain.001.001.09 XSD that tests check edgenode's SEPA payout files against. The official
# catalogue (iso20022.org) is not reachable here; PyPI is, and the sepaxml package (pinned, checksum-verified) ships
# the schema. Written to .build/xsd/pain.001.001.09.xsd.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/xsd/pain.001.001.09.xsd
xsd_sha256=de038b373e47b0077b1832ddd81f4b2f1eb25d35721f62da1e38b7f5a09fda24
if [ -f "$out" ] && echo "$xsd_sha256  $out" | sha256sum -c --status; then exit 0; fi
venv=.build/tools/pip-venv
[ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$venv/bin/pip" download --quiet --disable-pip-version-check --no-deps --dest "$work" sepaxml==2.7.0
echo "6644f695c66c2bf8f49065d4d7b0814da42140d03292131ec08e09798ad07b5d  $work/sepaxml-2.7.0-py3-none-any.whl" | sha256sum -c --status \
  || { echo "error: the sepaxml wheel does not have the pinned checksum" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
"$venv/bin/python" -c "import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read('sepaxml/schemas/pain.001.001.09.xsd'))" \
  "$work/sepaxml-2.7.0-py3-none-any.whl" > "$out.tmp"
echo "$xsd_sha256  $out.tmp" | sha256sum -c --status || { echo "error: the extracted XSD does not have the pinned checksum" >&2; exit 1; }
mv "$out.tmp" "$out"
