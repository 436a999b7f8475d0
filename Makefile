# cb2ac — the two set-up commands are `make demo` and `make test`.
GO       ?= go
BIN      := bin/cb2ac
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
DEMO_DIR ?= data/demo

.PHONY: all build test test-live vet fmt-check demo fixtures clean

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) .

# vet, formatting and every test (unit, golden, end-to-end through the CLI).
test: vet fmt-check
	$(GO) test -count=1 ./...

# The API contract suites against real accounts (read README "Development"): AC when
# AC_API_URL/AC_API_TOKEN are set, Chargebee (read-only) when CHARGEBEE_SITE /
# CHARGEBEE_API_KEY are set. Never part of CI.
test-live:
	CB2AC_LIVE=1 $(GO) test -count=1 -v -run ContractLive ./stages/...

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

# Regenerate fixtures/ from scripts/genfixtures (deterministic).
fixtures:
	$(GO) run ./scripts/genfixtures

clean:
	rm -rf bin data
