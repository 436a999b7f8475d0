// Command bench is `make bench`: it measures cb2ac's stages as the CLI runs them, at
// 100k and 1M synthetic customers (scripts/gen), and writes bench/results.md.
//
//	go run ./scripts/bench                          # 100k and 1M (about half an hour)
//	go run ./scripts/bench --quick                  # 10k, to try it out (a minute)
//	go run ./scripts/bench --sizes 100000 --keep    # keep the generated data and runs
//
// Every stage is its own bin/cb2ac process; its wall time is measured around it and
// its CPU time (user + system) and peak RSS come from the rusage wait4 returns for
// the child (os.ProcessState.SysUsage): the figures /usr/bin/time -v prints as "User
// time", "System time" and "Maximum resident set size". A small helper process (this
// program again) starts each child, so the child's peak RSS is its own (see
// runner.run). Needs only Go; the DuckDB comparison also needs node and npm
// (@duckdb/node-api is installed into bench/.duckdb) and is skipped, saying so,
// without them. The figures also go to bench/results.json, from which
//
//	go run ./scripts/bench --render bench/results.json
//
// writes results.md again without measuring.
//
// Per size, three runs, each generating its extract into its own run folder first
// (scripts/gen --format snapshot, as the extract stage leaves it): run A validates,
// transforms, plans and loads day 1 into an in-process AC sandbox (rate limit off):
// the first sync; run B does the same with the same data (the identical second run,
// 0 writes expected); run C does day 2 (1% changed: the nightly case, whose
// validate + transform + plan is issue 16's 20 s target). Requests are counted by
// kind from the sandbox's log, email changes from run C's plan. Above --ac-max
// customers (default 100k) the loads are skipped: the sandbox would not fit in
// memory beside them, and the synced snapshot is made directly. DuckDB then diffs
// run C's transform output against the synced snapshot run C's plan read, by key
// and row_hash; at the largest size the stages are run once more with CPU and heap
// profiles. Once, at --extract-size customers, extract reads the in-process
// Chargebee sandbox in full and then incrementally after the day-2 change set.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	sizes       []int
	extractSize int
	work        string
	keep        bool
	out         string
	micro       string
	duckdbDir   string
	noDuckDB    bool
	noProfiles  bool
	verbose     bool
	onDeleted   string
	rpBatch     int
	importPoll  time.Duration
	applyDelay  time.Duration
	minAvail    int64
	acMax       int
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == measureArg {
		measureMain(os.Args[2:])
		return
	}
	var (
		o          options
		sizes      string
		quick      bool
		extractArg int
	)
	flag.StringVar(&sizes, "sizes", "100000,1000000", "customer counts to measure, comma-separated")
	flag.BoolVar(&quick, "quick", false, "try it out: --sizes 10000 --extract-size 10000")
	flag.IntVar(&extractArg, "extract-size", 0, "customers for the Chargebee API extract (default 100000 when --sizes has it, else the smallest size; -1 skips)")
	flag.StringVar(&o.work, "work", "", "folder for generated data and runs (default: a new temp folder, removed at the end unless --keep)")
	flag.BoolVar(&o.keep, "keep", false, "keep the work folder")
	flag.StringVar(&o.out, "out", "bench/results.md", "results file")
	flag.StringVar(&o.micro, "micro", "bench/micro.txt", "go test -bench output to quote in the results (make bench writes it first)")
	flag.StringVar(&o.duckdbDir, "duckdb-dir", "bench/.duckdb", "npm prefix @duckdb/node-api is installed into")
	flag.BoolVar(&o.noDuckDB, "no-duckdb", false, "skip the DuckDB comparison")
	flag.BoolVar(&o.noProfiles, "no-profiles", false, "skip the CPU and heap profiles of the largest size's stages")
	flag.BoolVar(&o.verbose, "v", false, "echo every command")
	flag.DurationVar(&o.importPoll, "import-poll", 10*time.Millisecond, "activecampaign.import_poll of the benchmark config")
	flag.DurationVar(&o.applyDelay, "apply-delay", 5*time.Millisecond, "AC sandbox: delay before a bulk import is applied")
	flag.IntVar(&o.acMax, "ac-max", 100000, "largest size whose loads run against the in-process AC sandbox (it holds ~850 MiB per 100k customers); above it the synced snapshot is made directly")
	render := flag.String("render", "", "only write --out again from the figures of an earlier run (bench/results.json)")
	minAvailMiB := flag.Int64("min-available", 1536, "kill a measured process when the machine's MemAvailable falls below this many MiB (0: never)")
	flag.Parse()
	o.minAvail = *minAvailMiB << 20
	if flag.NArg() > 0 {
		fail(fmt.Errorf("unexpected arguments %q", flag.Args()))
	}
	if quick {
		sizes = "10000"
		if extractArg == 0 {
			extractArg = 10000
		}
	}
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fail(fmt.Errorf("--sizes %q: want customer counts like 100000,1000000", sizes))
		}
		o.sizes = append(o.sizes, n)
	}
	slices.Sort(o.sizes)
	o.extractSize = extractArg
	if o.extractSize == 0 {
		o.extractSize = o.sizes[0]
		if slices.Contains(o.sizes, 100000) {
			o.extractSize = 100000
		}
	}
	o.onDeleted = "keep"
	o.rpBatch = 100

	if *render != "" {
		var res results
		raw, err := os.ReadFile(*render)
		if err == nil {
			err = json.Unmarshal(raw, &res)
		}
		if err == nil {
			res.readMicro(o.micro)
			err = res.write(o.out)
		}
		if err != nil {
			fail(err)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "bench: %v\n", err)
	os.Exit(1)
}

// bench holds what every part shares.
type bench struct {
	o      options
	r      *runner
	root   string
	work   string
	cb2ac  string
	gen    string
	env    []string // the environment without any real account's endpoints or secrets
	res    *results
	duckOK string // "" when DuckDB can run, else why not
}

func run(ctx context.Context, o options) error {
	start := time.Now()
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if err := os.Chdir(root); err != nil {
		return err
	}
	work := o.work
	if work == "" {
		if work, err = os.MkdirTemp("", "cb2ac-bench-"); err != nil {
			return err
		}
		if !o.keep {
			defer os.RemoveAll(work)
		}
	} else if work, err = filepath.Abs(work); err != nil {
		return err
	}
	logs := filepath.Join(work, "logs")
	if err := os.MkdirAll(logs, 0o700); err != nil {
		return err
	}
	b := &bench{o: o, root: root, work: work, env: cleanEnv(), res: newResults(o)}
	b.r = &runner{ctx: ctx, root: root, logs: logs, verbose: o.verbose, minAvail: o.minAvail}
	// This process holds the AC sandbox's account (gigabytes at 1M customers): a
	// tighter GC keeps it from crowding the measured processes out of memory. Its
	// CPU is not a measured figure.
	debug.SetGCPercent(25)
	fmt.Printf("bench: work folder %s (logs in %s)\n", work, logs)

	// Build once: the CLI as `make build` does, and the generator.
	b.cb2ac = filepath.Join(root, "bin", "cb2ac")
	b.gen = filepath.Join(work, "bin", "gen")
	for _, bld := range [][]string{{"-o", b.cb2ac, "."}, {"-o", b.gen, "./scripts/gen"}} {
		cmd := exec.CommandContext(ctx, "go", append([]string{"build"}, bld...)...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build %s: %w", bld[len(bld)-1], err)
		}
	}
	if !o.noDuckDB {
		b.duckOK = b.installDuckDB(ctx)
	} else {
		b.duckOK = "skipped (--no-duckdb)"
	}
	b.res.DuckNote = b.duckOK

	for _, n := range o.sizes {
		fmt.Printf("\n== %d customers\n", n)
		sr, err := b.size(ctx, n)
		if sr != nil {
			b.res.Sizes = append(b.res.Sizes, sr)
		}
		if err != nil {
			b.res.Failures = append(b.res.Failures, fmt.Sprintf("%d customers: %v", n, err))
			fmt.Fprintf(os.Stderr, "bench: %d customers: %v\n", n, err)
			if ctx.Err() != nil {
				break
			}
		}
	}
	if o.extractSize > 0 && ctx.Err() == nil {
		fmt.Printf("\n== Chargebee API extract, %d customers\n", o.extractSize)
		cr, err := b.chargebee(ctx, o.extractSize)
		b.res.Chargebee = cr
		if err != nil {
			b.res.Failures = append(b.res.Failures, fmt.Sprintf("chargebee extract: %v", err))
			fmt.Fprintf(os.Stderr, "bench: chargebee extract: %v\n", err)
		}
	}
	b.res.Total = time.Since(start)
	b.res.readMicro(o.micro)
	if raw, err := json.MarshalIndent(b.res, "", " "); err == nil {
		// The figures as measured, beside results.md: --render writes it again from
		// them (after a change to the report's wording) without measuring again.
		if err := os.WriteFile(strings.TrimSuffix(o.out, ".md")+".json", raw, 0o644); err != nil {
			return err
		}
	}
	if err := b.res.write(o.out); err != nil {
		return err
	}
	fmt.Printf("\nbench: wrote %s in %s\n", o.out, b.res.Total.Round(time.Second))
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if len(b.res.Failures) > 0 {
		return errors.New(strings.Join(b.res.Failures, "; "))
	}
	return nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run bench inside the cb2ac module (go run ./scripts/bench)")
	}
	return filepath.Dir(mod), nil
}

// secretEnv are the variables that point cb2ac at an account: the benchmark's
// children get only the sandboxes' values.
var secretEnv = []string{
	"AC_API_URL", "AC_API_TOKEN", "AC_API_TOKEN_FILE",
	"CHARGEBEE_API_URL", "CHARGEBEE_API_KEY", "CHARGEBEE_API_KEY_FILE", "CHARGEBEE_SITE",
	"CB2AC_CONFIG",
	// The figures are taken with cb2ac's default memory limit and GC: a limit set
	// in the caller's shell would measure another configuration.
	"GOMEMLIMIT", "GOGC",
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(secretEnv, k) {
			env = append(env, kv)
		}
	}
	return env
}

func withEnv(env []string, kv ...string) []string {
	return append(slices.Clone(env), kv...)
}

func randomSecret() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "bench-" + hex.EncodeToString(b)
}

// writeConfig writes the benchmark's cb2ac.yaml: API limits off (the sandboxes have
// none either) and a short import poll.
func (b *bench) writeConfig(dir string) (string, error) {
	cfg := fmt.Sprintf(`# written by scripts/bench: limits off for the local sandboxes
activecampaign:
  list: Customers
  rate_limit: 100000
  import_poll: %s
  recurring_payment_batch: %d
  on_customer_deleted: %s
chargebee:
  rate_limit_per_minute: -1
`, b.o.importPoll, b.o.rpBatch, b.o.onDeleted)
	path := filepath.Join(dir, "cb2ac.yaml")
	return path, os.WriteFile(path, []byte(cfg), 0o600)
}

func ceilDiv(a, b int64) int64 {
	if a <= 0 {
		return 0
	}
	return (a + b - 1) / b
}
