//go:build !cgo

package cli

import "testing"

// TestReadmeDuckDBQueries needs DuckDB's Go driver, which is cgo: without a C
// compiler (Go then builds with CGO_ENABLED=0) the README's queries are not run, and
// the test says so rather than failing the build of every test in this package.
func TestReadmeDuckDBQueries(t *testing.T) {
	t.Skip("README DuckDB queries not run: this build has no cgo (install gcc, or set CGO_ENABLED=1)")
}
