#!/usr/bin/env bash
# make test: the alerting rules load (`promtool check rules`) and behave as their unit tests say (`promtool test rules`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-promtool.sh >/dev/null
out/tools/promtool check rules monitoring/edgenode.rules.yml
(cd monitoring && ../out/tools/promtool test rules edgenode.rules.test.yml)
