// Command gen writes deterministic synthetic Chargebee data of any size, for
// benchmarks: the same variety as fixtures/chargebee (every subscription status and
// cancel reason, USD/EUR/JPY/KWD, trials, Product Catalog 1.0 and 2.0, custom
// fields, gifts, deleted records, and about 0.5% records of each kind validate
// rejects), 1.2 subscriptions and about one invoice per customer, each customer's
// payment source, a credit note per refund, and the catalog's items, plans and addons.
//
//	go run ./scripts/gen --customers 100000 --format pages --out DIR
//	go run ./scripts/gen --customers 100000 --format snapshot --out RUN/extract
//	go run ./scripts/gen --customers 100000 --format pages --out DIR2 --day2        # 1% changed
//	go run ./scripts/gen --customers 100000 --format snapshot --out RUN2 --day2 0.05
//
// pages writes Chargebee API v2 list pages as fixtures/chargebee holds them
// (DIR/customers/page-NNN.json ..., --page-size entries a page, keys sorted, the
// fixtures' two-space layout unless --compact), for the pages extract source and the
// Chargebee sandbox. snapshot writes an extract folder (the Parquet files the
// extract stage writes, plus the run's manifest.json) that `cb2ac validate --in`
// takes as is; --out names the extract folder, or a run folder to put extract/ in.
//
// --day2 [FRACTION] (0.01 when given bare) writes day 2 instead of day 1: that
// fraction of customers and, independently, of subscriptions changed during the
// next day (status moves, quantity changes, email and profile edits, deletions),
// plus FRACTION/10 new customers. In pages format that is the change set only, in
// updated_at order, as fixtures/chargebee-day2 is (apply it to a sandbox loaded with
// day 1); in snapshot format it is the whole site after the changes (what an
// incremental extract merges to).
//
// The output is a function of the flags: the same seed gives byte-identical files.
// Customers are generated and written as a stream, so memory does not grow with
// --customers (except day-2 pages, which hold the changes to sort them).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strconv"
	"time"
)

// day2Flag is --day2 with an optional value: bare, it means the 1%.
type day2Flag struct{ f float64 }

func (d *day2Flag) String() string {
	if d == nil || d.f == 0 {
		return "0"
	}
	return strconv.FormatFloat(d.f, 'g', -1, 64)
}

func (d *day2Flag) Set(s string) error {
	switch s {
	case "true":
		d.f = defaultDay2
		return nil
	case "false":
		d.f = 0
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > 1 {
		return fmt.Errorf("want a fraction in (0, 1], e.g. 0.01")
	}
	d.f = f
	return nil
}

func (d *day2Flag) IsBoolFlag() bool { return true }

const defaultDay2 = 0.01

func main() {
	var (
		o    options
		seed uint64
		d2   day2Flag
	)
	flag.IntVar(&o.customers, "customers", 1000, "number of customers (day 1)")
	flag.Uint64Var(&seed, "seed", 1, "random seed: the same seed gives the same files")
	flag.StringVar(&o.format, "format", formatPages, "pages (API list pages) or snapshot (an extract folder of Parquet files)")
	flag.StringVar(&o.out, "out", "", "output folder (pages: the pages folder; snapshot: RUN/extract or a run folder)")
	flag.Var(&d2, "day2", "write day 2 with `FRACTION` of customers and subscriptions changed (bare: 0.01)")
	flag.IntVar(&o.pageSize, "page-size", 100, "pages: entries a page (Chargebee's maximum is 100)")
	flag.BoolVar(&o.compact, "compact", false, "pages: compact JSON, as the API sends it, instead of the fixtures' indented layout")
	flag.BoolVar(&o.csv, "csv", false, "snapshot: write CSV twins, as cb2ac --csv does")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to `FILE`")
	flag.Parse()
	args := flag.Args()
	// A bool-style flag takes its value only as --day2=F; accept the spaced form too.
	if d2.f == defaultDay2 && len(args) > 0 {
		if err := d2.Set(args[0]); err == nil {
			args = args[1:]
		}
	}
	if len(args) > 0 {
		fail(fmt.Errorf("unexpected arguments %q", args))
	}
	if o.out == "" {
		fail(errors.New("--out is required"))
	}
	o.seed, o.day2 = seed, d2.f

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	res, err := generate(ctx, o)
	if err != nil {
		fail(err)
	}
	day := "day 1"
	if o.day2 > 0 {
		day = fmt.Sprintf("day 2 (%g changed)", o.day2)
	}
	where := o.out
	if res.extractDir != "" {
		where = res.extractDir + "  (cb2ac validate --in " + res.extractDir + ")"
	}
	fmt.Printf("%s, %s, seed %d, %d customers: %s\n", o.format, day, o.seed, o.customers, where)
	for _, k := range slices.Sorted(maps.Keys(res.counts)) {
		fmt.Printf("  %-40s %d\n", k, res.counts[k])
	}
	fmt.Printf("done in %s\n", time.Since(start).Round(time.Millisecond))
}

func fail(err error) {
	pprof.StopCPUProfile()
	fmt.Fprintln(os.Stderr, "gen:", err)
	os.Exit(1)
}
