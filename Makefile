# cb2ac — the two set-up commands are `make demo` and `make test`.
GO       ?= go
BIN      := bin/cb2ac
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
DEMO_DIR ?= data/demo

.PHONY: all build test vet fmt-check demo fixtures clean

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) .

# vet, formatting and every test (unit, golden, end-to-end through the CLI).
test: vet fmt-check
	$(GO) test -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The whole job on the bundled fixtures, in a fresh data folder.
demo: build
	rm -rf $(DEMO_DIR)
	$(BIN) --data-dir $(DEMO_DIR) --log-level warn run --in fixtures/chargebee --csv
	@run=$$(ls -d $(DEMO_DIR)/runs/*/ | tail -1); \
	echo; echo "Look at the files:"; \
	echo "  $(BIN) inspect $${run}transform/recurring_payments.parquet"; \
	echo "  $(BIN) inspect --format csv $${run}validate/errors.csv"; \
	echo "  duckdb -c \"SELECT normalizedStatus, count(*) FROM '$${run}transform/recurring_payments.parquet' GROUP BY 1\""

# Regenerate fixtures/ from scripts/genfixtures (deterministic).
fixtures:
	$(GO) run ./scripts/genfixtures

clean:
	rm -rf bin data
