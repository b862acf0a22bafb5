# edgenode — two commands on a fresh Debian 12 machine:
#   make run    installs what is missing, builds, publishes and verifies a generated sample clip, serves it from
#               the origin and through an edge that fills and verifies it, shows the gossip view
#   make test   installs what is missing (nginx, nftables for the gossip-partition test, xmllint and the pain.001 XSD
#               for the SEPA files, systemd-analyze), builds, checks the systemd unit and make install, validates the
#               control API's OpenAPI document and runs schemathesis against a live origin, then runs every test
SWIFT ?= swift

.PHONY: deps build release run test bench install clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

run: build
	scripts/demo.sh

test: build
	@scripts/install-deps.sh nginx nftables libxml2-utils systemd
	scripts/check-systemd.sh
	scripts/fetch-pain-xsd.sh
	scripts/check-openapi.sh
	scripts/check-schemathesis.sh
	$(SWIFT) test

# As root: the binary, the edgenode user, /etc/edgenode, /var/lib/edgenode and the systemd unit (README, "Production
# layout"); DESTDIR=DIR stages it instead.
install: release
	scripts/install.sh

bench: deps
	bench/segment.sh

clean:
	rm -rf .build out bench/work
