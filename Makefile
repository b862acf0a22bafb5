# edgenode — two commands on a fresh Debian 12 machine:
#   make run    installs what is missing, builds, publishes and verifies a generated sample clip, then runs every
#               node of nodes.conf as its own process until Ctrl-C (logs in out/logs/)
#   make demo   the scripted, checked tour of the whole fleet (also run by make test)
#   make test   installs what is missing (nginx, nftables for the gossip-partition test, xmllint and the pain.001 XSD
#               for the SEPA files, systemd-analyze, promtool), builds, checks the systemd unit, make install and the
#               alerting rules, validates the control API's OpenAPI document and runs schemathesis against a live
#               origin, then runs every test, then the data plane and cache suites again under ThreadSanitizer; it
#               fails on a wrapping operator (&+ &- &*) outside scripts/check-wrapping.sh's allow-list
SWIFT ?= swift

.PHONY: deps build release run demo test bench install clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

run: build
	@scripts/prepare-demo.sh
	@scripts/fleet.py

demo: build
	@scripts/prepare-demo.sh
	@scripts/demo.py

test: build
	@scripts/install-deps.sh nginx nftables libxml2-utils systemd chromium
	scripts/check-wrapping.sh
	scripts/check-systemd.sh
	scripts/check-monitoring.sh
	scripts/fetch-pain-xsd.sh
	scripts/check-openapi.sh
	scripts/check-schemathesis.sh
	@scripts/prepare-demo.sh
	scripts/demo.py
	$(SWIFT) test
	EDGENODE_TIMING=1 $(SWIFT) test --skip-build --filter ControlResponsivenessTests
	scripts/test-tsan.sh

# As root: the binary, the edgenode user, /etc/edgenode, /var/lib/edgenode and the systemd unit (README, "Production
# layout"); DESTDIR=DIR stages it instead.
install: release
	scripts/install.sh

bench: deps
	bench/segment.sh

clean:
	rm -rf .build out bench/work
