#!/usr/bin/env bash
# Validates the control API's OpenAPI 3.1 document with openapi-spec-validator (pinned, from PyPI, in a venv under
# .build/tools so the system Python is untouched). The Swift tests check the same document against the router's routes
# and the live responses' shapes.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build/tools/openapi-venv
if [ ! -x "$venv/bin/openapi-spec-validator" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check openapi-spec-validator==0.9.0
fi
"$venv/bin/openapi-spec-validator" docs/control-api.openapi.json
