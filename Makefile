# cb2ac — the two set-up commands are `make demo` and `make test`.
GO       ?= go
BIN      := bin/cb2ac
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
DEMO_DIR ?= data/demo

.PHONY: all build image test test-live reliability fuzz vet fmt-check demo fixtures bench clean

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) .

# The container image (Dockerfile: a static binary on distroless static, non-root),
# tagged $(IMAGE). Needs a docker engine; without the docker command it says so and
# fails, since no image was made. internal/cli TestDockerfile checks what can be
# checked without an engine.
IMAGE ?= cb2ac:$(VERSION)
image:
	@command -v docker >/dev/null 2>&1 || { echo "make image: the docker command is not installed; install Docker (or build the Dockerfile with another OCI builder: podman build, buildah, kaniko)"; exit 1; }
	docker build --build-arg VERSION=$(VERSION) -t $(IMAGE) .

# vet, formatting and every test (unit, golden, end-to-end through the CLI).
test: vet fmt-check
	$(GO) test -count=1 ./...

# The whole crash and fault matrices (RELIABILITY.md): the job SIGKILLed at every
# point and run through every API fault, day 1 and day 2, against the sandboxes;
# `make test` runs a subset of them. About 3 minutes.
reliability:
	CB2AC_RELIABILITY=full $(GO) test -count=1 -v -run 'TestReliability' ./internal/cli

# The API contract suites against real accounts (read README "Development"): AC when
# AC_API_URL/AC_API_TOKEN are set, Chargebee (read-only) when CHARGEBEE_SITE /
# CHARGEBEE_API_KEY are set; a real bucket when CB2AC_TEST_BUCKET names one
# (s3://bucket/prefix, gs://…, azblob://…) with that cloud's usual credentials.
# Never part of CI.
test-live:
	CB2AC_LIVE=1 $(GO) test -count=1 -v -run ContractLive ./stages/... ./pipeline

# Every fuzz target for FUZZTIME each, in turn (go test -fuzz takes one target at a
# time). The seed corpora under */testdata/fuzz also run in `make test`. Minimizing
# a new input is capped so that short runs (CI: 3s) spend their time fuzzing.
FUZZTIME ?= 5s
FUZZ_TARGETS := FuzzDecodePage:./stages/extract/chargebee FuzzCheckEmail:./stages/validate \
	FuzzFormat:./internal/money FuzzAddMul:./internal/money FuzzReadFile:./schemas
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $${t%%:*} ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$${t%%:*}\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $${t#*:}; \
	done

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The whole job, three nights in a row, through the real API clients against the
# in-process Chargebee and AC sandboxes (AC state kept in $(DEMO_DIR)/sandbox/):
# night 1 creates everything, night 2 sends nothing, night 3 (fixtures/chargebee-day2
# applied in Chargebee) sends only the changes.
demo: build
	rm -rf $(DEMO_DIR)
	@echo "== night 1: first sync (everything is created)"
	$(BIN) --data-dir $(DEMO_DIR) --log-level warn run --sandbox --csv
	@echo; echo "== night 2: nothing changed in Chargebee (0 write requests)"
	$(BIN) --data-dir $(DEMO_DIR) --log-level warn run --sandbox --csv
	@echo; echo "== night 3: fixtures/chargebee-day2 applied in Chargebee (only the changes)"
	$(BIN) --data-dir $(DEMO_DIR) --log-level warn run --sandbox --csv --sandbox-apply fixtures/chargebee-day2
	@run=$$(ls -d $(DEMO_DIR)/runs/*/ | tail -1); \
	echo; echo "Look at the files of the last run ($$run):"; \
	echo "  $(BIN) inspect $${run}load/plan.parquet"; \
	echo "  $(BIN) inspect $${run}transform/recurring_payments.parquet"; \
	echo "  $(BIN) inspect --format csv $${run}validate/errors.csv"; \
	echo "  duckdb -c \"SELECT entity, op, count(*) FROM '$${run}load/plan.parquet' GROUP BY ALL\""

# The benchmark of issues 6 and 16 (read bench/results.md): Go micro-benchmarks into
# bench/micro.txt, then scripts/bench at 100k and 1M customers (first sync, identical
# second run and 1% day 2 at each; DuckDB doing plan's diff; CPU and heap profiles
# of the 1M stages; about half an hour; BENCH_FLAGS=--quick tries it at 10k) writes
# bench/results.md and results.json. Needs only Go; the DuckDB comparison also needs
# node and npm (it installs @duckdb/node-api into bench/.duckdb).
BENCH_FLAGS ?=
bench:
	@mkdir -p bench
	$(GO) test -run '^$$' -bench . -benchmem ./... | tee bench/micro.txt
	$(GO) run ./scripts/bench $(BENCH_FLAGS)

# Regenerate fixtures/ from scripts/genfixtures (deterministic).
fixtures:
	$(GO) run ./scripts/genfixtures

clean:
	rm -rf bin data
