# shardmesh — `make run` starts xds-server on an embedded etcd seeded with
# the example fleet; `make test` runs the whole suite.

GO        ?= go
BIN       := bin
XDS_ADDR  ?= 127.0.0.1:18000
ADMIN_ADDR?= 127.0.0.1:18001
DATA_DIR  ?= .shardmesh-data

.PHONY: all build run test vet fmt clean bench demo demo-mariadb demo-vitess deps ha chaos race storm

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

run: build
	$(BIN)/xds-server --xds-addr=$(XDS_ADDR) --admin-addr=$(ADMIN_ADDR) \
		--etcd-data-dir=$(DATA_DIR) --seed=examples/topology.yaml

vet:
	$(GO) vet ./...
	cd test/grpcgo-old && $(GO) vet ./...

# The grpc-js-xds clients that test/e2e/parity_test.go drives: the current
# release (test/node) and the oldest one supported (test/node-1.10).
test/node/node_modules: test/node/package-lock.json
	npm ci --prefix test/node --no-audit --no-fund

test/node-1.10/node_modules: test/node-1.10/package-lock.json
	npm ci --prefix test/node-1.10 --no-audit --no-fund

# Debian packages the suite runs for real (scripts/debian-deps.sh).
deps:
	bash scripts/debian-deps.sh

test: deps vet test/node/node_modules test/node-1.10/node_modules
	@test -z "$$(gofmt -l cmd pkg internal test envoy examples)" || { echo "gofmt needed:"; gofmt -l cmd pkg internal test envoy examples; exit 1; }
	$(GO) test -count=1 -timeout 20m ./...
	$(MAKE) race

# The race detector over the libraries and the wiring (docs/operations.md).
race:
	$(GO) test -race -count=1 -timeout 20m ./pkg/... ./internal/...

# High availability (docs/operations.md): a 3-member etcd cluster and
# xds-server replicas as separate processes; kills, drains, recovery.
ha:
	$(GO) test -count=1 -v -timeout 10m ./test/ha -run 'TestRecovery|TestHA|TestDrain|TestMaxConnectionAge|TestBootstrapFallback'

# The chaos run, longer than the 60 s of `make test`: make chaos DURATION=10m
# (SEED=n replays a run).
DURATION ?= 10m
SEED     ?= 0
chaos:
	$(GO) test -count=1 -v -timeout 3h ./test/ha -run TestChaos -args -chaos.duration=$(DURATION) -chaos.seed=$(SEED)

# A one-minute live demo: tablets under etcd leases, two grpc-go clients,
# a zone failure, a reparent and a gradual cell drain with rollback.
demo:
	$(GO) run ./examples/demo -duration 60s

# The demo on real MariaDB (docs/agent.md): three mariadbd with replication,
# a tablet agent beside each; a stopped SQL thread, a killed mysqld, a
# switchover by hand and a drain, about 40 seconds.
demo-mariadb: deps
	$(GO) run ./examples/demo-mariadb -step 4s

# The same story on a Vitess cluster (docs/vitess.md): xds-server
# --source=vitess, a Vitess topology and the tablets' health streams.
demo-vitess:
	$(GO) run ./examples/demo -duration 60s -source vitess

# The full benchmark (docs/performance.md): 20k tablets, 1000 xDS streams,
# shardmesh against bare go-control-plane and the etcd floor. `make test`
# runs its smoke mode (cmd/xds-bench TestSmoke).
bench:
	GOMEMLIMIT=8GiB $(GO) run ./cmd/xds-bench -streams 1000 -changes 200 -burst 1000 \
		-baseline-changes 3 -baseline-streams 20 -timeout 300s -connect-timeout 900s \
		-out bench.json -plot docs/convergence.png

# A reconnect storm on one replica (docs/performance.md): 5,000 streams,
# each on its own connection, within one second.
storm:
	$(GO) run ./cmd/xds-bench -storm -storm-streams 5000 -connect-timeout 300s

fmt:
	gofmt -w cmd pkg internal

clean:
	rm -rf $(BIN) $(DATA_DIR)
