package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

type results struct {
	O         renderOpts
	Started   time.Time
	Total     time.Duration
	Sizes     []*sizeResult
	Chargebee *cbResult
	Failures  []string
	Micro     []string // Benchmark lines of go test -bench
	MicroFrom string
	DuckNote  string
	// The machine, as measured.
	Cores     int
	Mem, CPU  string
	GoVersion string
}

// renderOpts are the options the results mention.
type renderOpts struct {
	Sizes       []int
	ExtractSize int
	ACMax       int
	RPBatch     int
	OnDeleted   string
	Micro       string
	ImportPoll  time.Duration
	ApplyDelay  time.Duration
}

func newResults(o options) *results {
	r := &results{Started: time.Now(), O: renderOpts{
		Sizes: o.sizes, ExtractSize: o.extractSize, ACMax: o.acMax, RPBatch: o.rpBatch, OnDeleted: o.onDeleted,
		Micro: o.micro, ImportPoll: o.importPoll, ApplyDelay: o.applyDelay,
	}}
	r.Cores, r.Mem, r.CPU = machine()
	r.GoVersion = fmt.Sprintf("%s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return r
}

func (r *results) readMicro(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	r.Micro = nil
	fi, _ := f.Stat()
	r.MicroFrom = fmt.Sprintf("%s (written %s)", path, fi.ModTime().UTC().Format("2006-01-02 15:04 UTC"))
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "Benchmark") || strings.HasPrefix(l, "pkg:") {
			r.Micro = append(r.Micro, l)
		}
	}
}

const gib = 1 << 30

// verdict is one target's line in the results.
type verdict struct {
	Target string
	Figure string
	Met    string // "met", "NOT met", "not measured"
	Cause  string
}

// The targets of issue 16 (1M customers on 2 cores).
const (
	nightlyTarget      = 20.0 // s: validate + transform + plan of the nightly run
	duckTarget         = 1.0  // plan's wall time over DuckDB's for the same diff
	firstPlanTarget    = 10.0 // s: the first sync's plan
	writesTarget       = 1.1  // a day-2 load's (writes + polls) over the minimum
	incrementalPercent = 2.0  // issue 6: an incremental extract's requests, % of a full one
)

func (r *results) targets() []verdict {
	var vs []verdict
	big := r.size(1000000)
	add := func(target, figure string, ok bool, measured bool, cause string) {
		v := verdict{Target: target, Figure: figure, Met: "met"}
		switch {
		case !measured:
			v.Met = "not measured"
		case !ok:
			v.Met = "**NOT met**"
			v.Cause = cause
		}
		vs = append(vs, v)
	}
	// 1M: the nightly run's validate + transform + plan (run C).
	name := fmt.Sprintf("1M customers: nightly validate + transform + plan ≤ %.0f s wall in total", nightlyTarget)
	if big != nil && big.stage("C", "plan") != nil {
		var sum, cpu time.Duration
		var parts []string
		for _, st := range []string{"validate", "transform", "plan"} {
			sr := big.stage("C", st)
			sum += sr.P.Wall
			cpu += sr.P.CPU()
			parts = append(parts, fmt.Sprintf("%s %s s", st, secs(sr.P.Wall)))
		}
		add(name, fmt.Sprintf("%s s (%s; day-2 run C); their CPU time: %s s", secs(sum), strings.Join(parts, ", "), secs(cpu)),
			sum.Seconds() <= nightlyTarget, true, big.profileCause("cpu", "validate", "transform", "plan ("))
	} else {
		add(name, "1M not in --sizes", false, false, "")
	}
	// plan vs DuckDB, at every size.
	for _, s := range r.Sizes {
		pl := s.stage("C", "plan")
		name := fmt.Sprintf("%s customers: plan ≤ %.1f× DuckDB's wall time for the same diff (DuckDB writing the changed rows)", human(s.N), duckTarget)
		if s.Duck == nil || pl == nil || s.Duck.QueryMS <= 0 {
			add(name, r.DuckNote, false, false, "")
			continue
		}
		ratio := pl.P.Wall.Seconds() * 1000 / s.Duck.QueryMS
		fig := fmt.Sprintf("plan %s s vs DuckDB %.2f s (its queries; %.2f s with node's start) = **%.2f×** (%.2f× the node process; CPU %.2f×, peak RSS %.2f×)",
			secs(pl.P.Wall), s.Duck.QueryMS/1000, s.Duck.P.Wall.Seconds(), ratio,
			pl.P.Wall.Seconds()/max(s.Duck.P.Wall.Seconds(), 1e-9), pl.P.CPU().Seconds()/max(s.Duck.P.CPU().Seconds(), 1e-9),
			float64(pl.P.MaxRSS)/float64(max(s.Duck.P.MaxRSS, 1)))
		add(name, fig, ratio <= duckTarget, true, s.profileCause("cpu", "plan ("))
	}
	// 1M first sync: the plan's time and memory.
	name = fmt.Sprintf("1M customers, first sync: plan ≤ %.0f s and ≤ 1 GiB peak RSS", firstPlanTarget)
	if pl := big.stageOrNil("A", "plan"); pl != nil {
		ok := pl.P.Wall.Seconds() <= firstPlanTarget && pl.P.MaxRSS <= gib
		add(name, fmt.Sprintf("plan %s s (CPU %s s), peak RSS %s (run A)", secs(pl.P.Wall), secs(pl.P.CPU()), mib(pl.P.MaxRSS)),
			ok, true, big.profileCause("", "plan --full"))
	} else {
		add(name, "1M not in --sizes", false, false, "")
	}
	// Every stage of every run at most 1 GiB, cb2ac's default memory limit.
	var over []string
	var worst stageRun
	var count int
	var noLoads []string
	for _, st := range r.allStages() {
		count++
		if st.P.MaxRSS > worst.P.MaxRSS {
			worst = st
		}
		if st.P.MaxRSS > gib {
			over = append(over, fmt.Sprintf("%s %s", st.label(), mib(st.P.MaxRSS)))
		}
	}
	for _, s := range r.Sizes {
		if !s.WithAC {
			noLoads = append(noLoads, human(s.N))
		}
	}
	name = "Every stage of every run ≤ 1 GiB peak RSS, with the default memory limit"
	if count > 0 {
		fig := fmt.Sprintf("%d stage processes; largest: %s %s", count, worst.label(), mib(worst.P.MaxRSS))
		if len(over) > 0 {
			fig += "; over 1 GiB: " + strings.Join(over, ", ")
		}
		if len(noLoads) > 0 {
			fig += fmt.Sprintf("; loads not run at %s (--ac-max)", strings.Join(noLoads, ", "))
		}
		cause := "see the heap profiles"
		if big != nil {
			cause = big.profileCause("heap", "transform", "plan --full")
		}
		add(name, fig, len(over) == 0, true, cause)
	} else {
		add(name, "nothing measured", false, false, "")
	}
	for _, s := range r.Sizes {
		for _, l := range s.Loads {
			if l.Run != "C" {
				continue
			}
			ratio := float64(l.Writes+l.Polls) / float64(max(l.Minimum, 1))
			add(fmt.Sprintf("%s customers, 1%% day-2 run: write requests ≤ %.1f× the batching minimum, an email change counted as one request", human(s.N), writesTarget),
				fmt.Sprintf("%d writes + %d polls = %d vs minimum %d (⌈(%d − %d)/250⌉ + %d email changes + ⌈%d/%d⌉ + %d polls) = **%.2f×**; all requests %d",
					l.Writes, l.Polls, l.Writes+l.Polls, l.Minimum, l.ChangedContacts, l.EmailChanges, l.EmailChanges, l.ChangedRPs, r.O.RPBatch, l.Polls, ratio, l.Requests),
				ratio <= writesTarget, true, writesCause(l))
		}
	}
	// Kept from issue 6.
	for _, s := range r.Sizes {
		for _, l := range s.Loads {
			if l.Run == "B" {
				add(fmt.Sprintf("%s customers: identical second run sends 0 write requests (issue 6)", human(s.N)),
					fmt.Sprintf("%d writes (%d requests: %s)", l.Writes, l.Requests, opsString(l.Ops)), l.Writes == 0, true, "requests by kind: "+opsString(l.Ops))
			}
		}
	}
	if c := r.Chargebee; c != nil && len(c.Entities) > 0 {
		ok := true
		var pages int64
		var bad []string
		for _, e := range c.Entities {
			pages += e.Pages
			if int64(e.Full) != e.Pages {
				ok = false
				bad = append(bad, fmt.Sprintf("%s %d vs %d", e.Entity, e.Full, e.Pages))
			}
		}
		fig := fmt.Sprintf("%d requests, %d pages (⌈N/100⌉ per list)", c.FullReqs, pages)
		if len(bad) > 0 {
			fig += "; differ: " + strings.Join(bad, ", ")
		}
		add(fmt.Sprintf("Full extract of %s customers: requests = pages (issue 6)", human(c.N)), fig, ok, true, "see the requests per list")
		if c.Incr.P.Wall > 0 {
			pct := 100 * float64(c.IncrReqs) / float64(max(c.FullReqs, 1))
			add(fmt.Sprintf("Incremental extract after 1%% changed: ≤ %.0f%% of the full extract's requests (issue 6)", incrementalPercent),
				fmt.Sprintf("%d of %d = %.2f%%", c.IncrReqs, c.FullReqs, pct), pct <= incrementalPercent, true,
				fmt.Sprintf("each of the %d lists costs at least one request however little changed: at small sizes that floor is over %.0f%% of the full read",
					len(c.Entities), incrementalPercent))
		}
	} else {
		add("Full extract from the Chargebee sandbox: requests = pages (issue 6)", "not run", false, false, "")
	}
	// Go micro-benchmarks for the hot functions, with allocations.
	hot := []struct{ what, re string }{
		{"row hash", `hash`}, {"status/field mapping", `status|mapp|field`},
		{"money conversion", `money|amount|decimal|minor`}, {"email validation", `email`},
	}
	var have, missing []string
	allocs := true
	for _, h := range hot {
		// A benchmark counts when its name or its package names the function.
		re := regexp.MustCompile(`(?i)^\S*(` + h.re + `)\S* Benchmark|^\S* Benchmark\S*(` + h.re + `)`)
		found := false
		pkg := ""
		for _, l := range r.Micro {
			if p, ok := strings.CutPrefix(l, "pkg: "); ok {
				pkg = p
				continue
			}
			if re.MatchString(pkg + " " + l) {
				found = true
				if !strings.Contains(l, "allocs/op") {
					allocs = false
				}
			}
		}
		if found {
			have = append(have, h.what)
		} else {
			missing = append(missing, h.what)
		}
	}
	switch {
	case len(r.Micro) == 0:
		add("Go benchmarks for the hot functions, allocations reported (issue 6)", "no "+r.O.Micro+" (make bench writes it)", false, false, "")
	default:
		fig := "covered: " + strings.Join(have, ", ")
		if len(missing) > 0 {
			fig += "; no benchmark found for: " + strings.Join(missing, ", ")
		}
		add("Go benchmarks for the hot functions, allocations reported (issue 6)", fig, len(missing) == 0 && allocs, true, "see bench/micro.txt")
	}
	return vs
}

// writesCause explains a day-2 load's writes from its requests by kind.
func writesCause(l loadRun) string {
	puts := l.Ops["contact_update"] // PUT /contacts/{id}: email changes (and swaps through a temporary address)
	syncs := l.Ops["contact_sync"] + l.Ops["contactLists"]
	imports := l.Ops["bulk_import"]
	rps := l.Ops["bulkUpsertRecurringPayments"]
	parts := []string{fmt.Sprintf("the writes: %d bulk imports, %d PUT /contacts/{id} for %d email changes, %d contact/sync or contactLists, %d bulkUpsertRecurringPayments",
		imports, puts, l.EmailChanges, syncs, rps)}
	if syncs > 0 {
		rest := l.Writes + l.Polls - syncs
		var fields []string
		for _, f := range sortedKeys(l.Cleared) {
			fields = append(fields, fmt.Sprintf("%s %d", f, l.Cleared[f]))
		}
		parts = append(parts, fmt.Sprintf("a contact/sync goes one contact at a time, each a request where the minimum counts 1/250: the plan has %d contact updates "+
			"that clear a value (by field: %s), which load sends that way because AC's importer reference does not say what a blank cell does, "+
			"and import batches under bulk_import_min go so too. Without them the load sends %d writes + polls = %.2f× the minimum",
			l.Clears, strings.Join(fields, ", "), rest, float64(rest)/float64(max(l.Minimum, 1))))
	}
	if puts > int(l.EmailChanges) {
		parts = append(parts, fmt.Sprintf("%d PUTs more than email changes: swaps of addresses step aside through a temporary address", puts-int(l.EmailChanges)))
	}
	if lookups := l.Ops["GET /contacts"]; lookups > 0 {
		parts = append(parts, fmt.Sprintf("reads, not in the count: %d GET /contacts?email= adopt contacts the bulk importer created (it answers no ids), once each; the id is kept in the synced snapshot after that", lookups))
	}
	return strings.Join(parts, "; ")
}

func (r *results) size(n int) *sizeResult {
	for _, s := range r.Sizes {
		if s.N == n {
			return s
		}
	}
	return nil
}

func human(n int) string {
	switch {
	case n >= 1000000 && n%1000000 == 0:
		return fmt.Sprintf("%dM", n/1000000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

func opsString(ops map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(ops) {
		parts = append(parts, fmt.Sprintf("%s %d", k, ops[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func machine() (cores int, mem, cpu string) {
	cores = runtime.NumCPU()
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "MemTotal:") {
				var kb int64
				fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(l, "MemTotal:")), "%d", &kb)
				mem = fmt.Sprintf("%.1f GiB (MemTotal %d kB)", float64(kb)/(1<<20), kb)
			}
		}
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				_, v, _ := strings.Cut(l, ":")
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	return
}

func (r *results) write(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var w strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&w, format, a...) }
	var sizes []string
	for _, n := range r.O.Sizes {
		sizes = append(sizes, human(n))
	}
	p("# cb2ac benchmark results\n\n")
	p("Written by `make bench` (`go run ./scripts/bench`; this run: sizes %s, Chargebee extract at %s). Do not edit by hand: run it again.\n\n",
		strings.Join(sizes, ", "), human(r.O.ExtractSize))
	p("| | |\n|---|---|\n")
	p("| date | %s |\n", r.Started.UTC().Format("2006-01-02 15:04 UTC"))
	p("| machine | %d cores (%s), %s |\n", r.Cores, r.CPU, r.Mem)
	p("| Go | %s |\n", r.GoVersion)
	if d := r.duckVersion(); d != "" {
		p("| DuckDB | %s |\n", d)
	}
	p("| total runtime | %s (generation, all runs and loads, DuckDB; not the go test micro-benchmarks) |\n\n", r.Total.Round(time.Second))
	p("How it is measured: every stage is its own `bin/cb2ac` process, run as the CLI runs it " +
		"(`cb2ac --data-dir D --config C --run-id R validate`, then `transform`, `plan`, `load`), with cb2ac's default memory limit (GOMEMLIMIT and GOGC are not passed on). " +
		"Wall time is taken around the process; CPU time (user + system) and peak RSS come from the child's " +
		"rusage as wait4 returns it (Go's `ProcessState.SysUsage()`: `Utime + Stime`, `Maxrss`), the same " +
		"figures `/usr/bin/time -v` prints as User time, System time and Maximum resident set size. " +
		"A small helper process starts each stage, not the benchmark process itself: Go starts children with vfork, and Linux " +
		"carries the parent's peak RSS into the child's ru_maxrss at exec, so children of the benchmark (which holds the AC " +
		"sandbox's account) would report its peak, not their own. " +
		"Rows/s is the rows of the Parquet files a stage read (extract: wrote), per wall second. " +
		"Data: `scripts/gen` snapshots (day 1, and day 2 with 1%% of customers and subscriptions changed), " +
		"same seed every time, each generated into its run's own folder (`gen --format snapshot --out D/runs/R`) as the extract " +
		"stage leaves it, so that every run is a nightly run, not a backfill of another folder.\n\n")
	var own, others time.Duration
	for _, s := range r.Sizes {
		for _, st := range s.Stages {
			own += st.P.CPU()
			others += st.P.Others
		}
	}
	if own > 0 {
		p("Other work on the machine: while the measured stages ran, the rest of the machine used %s s of CPU against their %s s (column \"others' CPU\"; for a load it includes the in-process AC sandbox). "+
			"On %d cores, wall times are inflated by that much competition; CPU times are not.\n\n", secs(others), secs(own), r.Cores)
	}
	if len(r.Failures) > 0 {
		p("**Parts that failed:**\n\n")
		for _, f := range r.Failures {
			p("- %s\n", strings.ReplaceAll(f, "\n", " "))
		}
		p("\n")
	}

	p("## Targets (issue 16; the last ones kept from issue 6)\n\n| target | measured | |\n|---|---|---|\n")
	var missed []verdict
	for _, v := range r.targets() {
		p("| %s | %s | %s |\n", v.Target, v.Figure, v.Met)
		if v.Cause != "" {
			missed = append(missed, v)
		}
	}
	if len(missed) > 0 {
		p("\nWhy the missed targets are missed, from this run's own figures:\n\n")
		for _, v := range missed {
			p("- %s: %s\n", v.Target, v.Cause)
		}
	}
	p("\n")

	for _, s := range r.Sizes {
		r.writeSize(&w, s)
	}
	if c := r.Chargebee; c != nil {
		r.writeChargebee(&w, c)
	}
	p("## Go micro-benchmarks\n\n")
	if len(r.Micro) == 0 {
		p("None quoted: %s is missing (`make bench` runs `go test -run '^$' -bench . -benchmem ./...` into it first).\n\n", r.O.Micro)
	} else {
		p("From %s (`go test -run '^$' -bench . -benchmem ./...`):\n\n```\n%s\n```\n\n", r.MicroFrom, strings.Join(r.Micro, "\n"))
	}
	r.writeProfiles(&w)
	return os.WriteFile(path, []byte(w.String()), 0o644)
}

func (r *results) duckVersion() string {
	for _, s := range r.Sizes {
		if s.Duck != nil {
			return fmt.Sprintf("%s via npm %s (node %s), %d threads", s.Duck.Version, duckdbPackage, nodeVersion(), s.Duck.Threads)
		}
	}
	return ""
}

func nodeVersion() string {
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

func (r *results) writeSize(w *strings.Builder, s *sizeResult) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## %s customers\n\n", human(s.N))
	runs := map[string]string{"A": "A first sync (day 1)", "B": "B identical second run", "C": "C day 2, 1% changed"}
	p("### Stages\n\n| run | stage | wall s | CPU s | CPU/wall | others' CPU s | peak RSS | rows in | rows/s | output (Parquet) |\n|---|---|--:|--:|--:|--:|--:|--:|--:|---|\n")
	var nightly time.Duration
	for _, st := range s.Stages {
		if st.Run == "C" && st.Stage != "load" {
			nightly += st.P.Wall
		}
		rps := "—"
		if st.P.Wall > 0 && st.RowsIn > 0 {
			rps = fmt.Sprintf("%.0f", float64(st.RowsIn)/st.P.Wall.Seconds())
		}
		flag := ""
		if st.P.MaxRSS > gib {
			flag = " ⚠"
		}
		p("| %s | %s | %s | %s | %.2f | %s | %s%s | %d | %s | %s |\n", runs[st.Run], st.Stage, secs(st.P.Wall), secs(st.P.CPU()),
			st.P.CPU().Seconds()/max(st.P.Wall.Seconds(), 1e-9), secs(st.P.Others), mib(st.P.MaxRSS), flag, st.RowsIn, rps, filesString(st.Out))
	}
	p("\nNightly local stages (run C validate + transform + plan): **%s s**. `load` includes its own plan (the diff) and every request to the sandbox; `plan` is `load --dry-run`.\n\n", secs(nightly))

	p("### Output files\n\n| run | stage | file | rows | size |\n|---|---|---|--:|--:|\n")
	for _, st := range s.Stages {
		if st.Run != "C" {
			continue
		}
		for _, f := range st.Out.Files {
			p("| %s | %s | %s | %d | %s |\n", st.Run, st.Stage, f.Name, f.Rows, sizeString(f.Bytes))
		}
	}
	for _, g := range s.Gen {
		p("| gen | %s | extract/*.parquet | | %s |\n", g.What, sizeString(g.Bytes))
	}
	p("\n")

	p("### Plans\n\n| run | contacts create | update | of which email changes | of which clear a value | delete | unchanged | payments create | update | delete | unchanged |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, run := range []string{"A", "B", "C"} {
		if pl := s.stage(run, "plan"); pl != nil {
			c := pl.Out.Counts
			p("| %s | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d |\n", runs[run],
				c["contacts_create"], c["contacts_update"], s.Plans[run].EmailChanges, s.Plans[run].Clears, c["contacts_delete"], c["contacts_unchanged"],
				c["recurring_payments_create"], c["recurring_payments_update"], c["recurring_payments_delete"], c["recurring_payments_unchanged"])
		}
	}
	p("\n")

	p("### ActiveCampaign requests (in-process sandbox, rate limit off)\n\n")
	if !s.WithAC {
		held := "about 850 MiB of account per 100k customers"
		for _, o := range r.Sizes {
			if o.WithAC && len(o.Loads) > 0 {
				held = fmt.Sprintf("%s of account after the loads at %s customers (this run)", mib(o.Loads[len(o.Loads)-1].SandboxHeap), human(o.N))
			}
		}
		p("Not run at this size (`--ac-max %d`; `--ac-max %d` runs them): the in-process AC sandbox holds %s, in the benchmark's own memory beside the load process. "+
			"The synced snapshot the plans of runs B and C diff against was made by the benchmark as a first sync acknowledged in full leaves it (run A's transform output without the rows deleted before they were ever synced; state.json points at it). "+
			"Request counts follow the changed records (see the plans above and the smaller size). "+
			"(Checked at 10k on 2026-12-04: with loads and with this shortcut, runs B and C plan exactly the same creates, updates, email changes and deletes.)\n\n", r.O.ACMax, s.N, held)
	} else {
		p("Config: `rate_limit: 100000`, `import_poll: %s`, `recurring_payment_batch: %d`, `on_customer_deleted: %s`; the sandbox applies a bulk import %s after accepting it, so a load polls each import about once (real AC takes seconds: expect 1–3 polls an import with the default 2 s first poll, doubling).\n\n",
			r.O.ImportPoll, r.O.RPBatch, r.O.OnDeleted, r.O.ApplyDelay)
		p("The minimum is what batching allows: ⌈(changed contacts − email changes)/250⌉ bulk imports, one PUT per email change "+
			"(AC's importer matches contacts by email, so a new address goes to the contact's id), ⌈changed payments/%d⌉ "+
			"bulkUpsertRecurringPayments, and the import status polls. Reads (lookups, polls, the read-back of payments) are in \"requests\", not in \"writes\".\n\n", r.O.RPBatch)
		p("| run | changed contacts | email changes | changed payments | requests | writes | import polls | minimum | (writes + polls) / minimum | by kind (requests; records) |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
		for _, l := range s.Loads {
			var kinds []string
			for _, k := range sortedKeys(l.Ops) {
				if l.Records[k] > 0 {
					kinds = append(kinds, fmt.Sprintf("%s %d; %d", k, l.Ops[k], l.Records[k]))
				} else {
					kinds = append(kinds, fmt.Sprintf("%s %d", k, l.Ops[k]))
				}
			}
			exit := ""
			if l.Exit != 0 {
				exit = fmt.Sprintf(" (exit %d: %d rejected)", l.Exit, l.Counts["rejected"])
			}
			p("| %s%s | %d | %d | %d | %d | %d | %d | %d | %.2f | %s |\n", runs[l.Run], exit, l.ChangedContacts, l.EmailChanges, l.ChangedRPs, l.Requests, l.Writes, l.Polls, l.Minimum,
				float64(l.Writes+l.Polls)/float64(max(l.Minimum, 1)), strings.Join(kinds, ", "))
		}
		if len(s.Loads) > 0 {
			p("\nThe AC sandbox's account after the loads: %s of the benchmark process's heap.\n\n", mib(s.Loads[len(s.Loads)-1].SandboxHeap))
		}
	}

	p("### Diff: cb2ac plan vs DuckDB\n\n")
	if s.Duck == nil {
		p("%s\n\n", r.DuckNote)
		return
	}
	pl := s.stage("C", "plan")
	synced := "run B's `load/synced`"
	if !s.WithAC {
		synced = "run A's `load/synced`, made by the benchmark"
	}
	p("The same diff on the same files: run C's transform output against the synced snapshot its plan read (%s), by key and `row_hash`; DuckDB %s, a FULL OUTER JOIN of the new file with the old file's key + row_hash, writing the changed rows (all columns) to Parquet. ", synced, s.Duck.Version)
	p("cb2ac's figure is the whole `cb2ac plan` process (start, config, reading both snapshots, the diff, writing plan.parquet and plan.csv).\n\n")
	p("| entity | DuckDB s | DuckDB changed rows | cb2ac plan changed |\n|---|--:|---|---|\n")
	lc := map[string]int64{}
	if pl != nil {
		lc = pl.Out.Counts
	}
	for _, e := range []struct{ name, count string }{{"contacts", "contacts"}, {"recurring_payments", "recurring_payments"}} {
		de := s.Duck.Entities[e.name]
		p("| %s | %.2f | %s | create %d, update %d, delete %d |\n", e.name, de.MS/1000, opsInt64(de.Ops), lc[e.count+"_create"], lc[e.count+"_update"], lc[e.count+"_delete"])
	}
	if pl != nil {
		p("\n**cb2ac plan %s s (CPU %s s, peak RSS %s) vs DuckDB %.2f s (its queries; node process %.2f s, CPU %s s, peak RSS %s): ratio %.2f×** (target ≤ %.1f×; "+
			"against the whole node process: wall %.2f×, CPU %.2f×, peak RSS %.2f×).\n\n",
			secs(pl.P.Wall), secs(pl.P.CPU()), mib(pl.P.MaxRSS), s.Duck.QueryMS/1000, s.Duck.P.Wall.Seconds(), secs(s.Duck.P.CPU()), mib(s.Duck.P.MaxRSS),
			pl.P.Wall.Seconds()*1000/s.Duck.QueryMS, duckTarget,
			pl.P.Wall.Seconds()/max(s.Duck.P.Wall.Seconds(), 1e-9), pl.P.CPU().Seconds()/max(s.Duck.P.CPU().Seconds(), 1e-9),
			float64(pl.P.MaxRSS)/float64(max(s.Duck.P.MaxRSS, 1)))
	}
	p("DuckDB counts a key as changed when its row_hash differs or it is on one side only; cb2ac also leaves out rows deleted on both sides or deleted before they were ever synced, and keys only in the synced snapshot (records validate rejected this time), so the counts differ slightly.\n\n")
}

func opsInt64(m map[string]int64) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func (r *results) writeChargebee(w *strings.Builder, c *cbResult) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## Chargebee API extract, %s customers\n\n", human(c.N))
	p("`cb2ac extract --source chargebee --full` against the in-process Chargebee sandbox (no rate limit; `chargebee.rate_limit_per_minute: -1` turns the client's limiter off) serving `scripts/gen --format pages --compact`; then the run is validated, transformed and loaded (the watermark moves only when a run's load finishes), the day-2 change set (1%%) is applied in the sandbox, and `cb2ac extract --source chargebee` reads incrementally")
	if c.IncrQuery != "" {
		p(" (`%s`)", c.IncrQuery)
	}
	p(". The sandbox runs inside the benchmark process: its CPU is not in the extract's figures.\n\n")
	p("| list | objects | pages ⌈N/100⌉ | full: requests | full: records | incremental: requests | incremental: records |\n|---|--:|--:|--:|--:|--:|--:|\n")
	for _, e := range c.Entities {
		p("| %s | %d | %d | %d | %d | %d | %d |\n", e.Entity, e.Objects, e.Pages, e.Full, e.FullRecords, e.Incr, e.IncrRecords)
	}
	p("| **all** | | | **%d** | | **%d** (%.2f%%) | |\n\n", c.FullReqs, c.IncrReqs, 100*float64(c.IncrReqs)/float64(max(c.FullReqs, 1)))
	if c.Non200 > 0 {
		p("%d requests were not answered 200 (retried).\n\n", c.Non200)
	}
	p("| step | wall s | CPU s | others' CPU s | peak RSS | rows | rows/s | output (Parquet) |\n|---|--:|--:|--:|--:|--:|--:|---|\n")
	all := append([]stageRun{c.Full}, c.Others...)
	all = append(all, c.Incr)
	for _, st := range all {
		if st.P.Wall == 0 {
			continue
		}
		rows, rps := st.Out.parquetRows(), "—"
		if rows > 0 {
			rps = fmt.Sprintf("%.0f", float64(rows)/st.P.Wall.Seconds())
		}
		p("| %s | %s | %s | %s | %s | %d | %s | %s |\n", st.Stage, secs(st.P.Wall), secs(st.P.CPU()), secs(st.P.Others), mib(st.P.MaxRSS), rows, rps, filesString(st.Out))
	}
	for _, g := range c.Gen {
		p("\n%s: %s generated in %s s.", g.What, sizeString(g.Bytes), secs(g.P.Wall))
	}
	p("\n\n")
}

func filesString(s *stageRecord) string {
	if s == nil {
		return ""
	}
	var parts []string
	for _, f := range s.Files {
		if strings.HasSuffix(f.Name, ".parquet") || strings.HasSuffix(f.Name, ".csv") {
			parts = append(parts, fmt.Sprintf("%s %s", strings.TrimSuffix(f.Name, ".parquet"), sizeString(f.Bytes)))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

func sizeString(b int64) string {
	switch {
	case b >= 10<<20:
		return fmt.Sprintf("%.0f MB", float64(b)/1e6)
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(b)/1e6)
	default:
		return fmt.Sprintf("%.0f kB", float64(b)/1e3)
	}
}

// writeProfiles quotes the profiles of the largest size's stages.
func (r *results) writeProfiles(w *strings.Builder) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	for _, s := range r.Sizes {
		if len(s.Profiles) == 0 {
			continue
		}
		p("## Profiles (%s customers)\n\n", human(s.N))
		p("Taken after the measured runs, with the CLI's hidden profiling flags " +
			"(`cb2ac --cpuprofile cpu.prof --memprofile heap.prof --data-dir D --run-id R transform`; the heap profile is " +
			"written each time the live heap reaches a new peak, so it shows what is held at the stage's peak), in a run of " +
			"its own that reads run C's extract again (`validate --in`); `plan --full` diffs against nothing, as a first sync's plan does. " +
			"Then `go tool pprof -top` (CPU: flat time; heap: `-sample_index=inuse_space`).\n\n")
		for _, pr := range s.Profiles {
			p("### %s: %s\n\n(%s s wall, %s s CPU, peak RSS %s with the profiler on)\n\n```\n%s\n```\n\ncb2ac's own functions, by cumulative share:\n\n```\n%s\n```\n\n",
				pr.What, map[string]string{"cpu": "CPU", "heap": "live heap at its peak"}[pr.Kind],
				secs(pr.P.Wall), secs(pr.P.CPU()), mib(pr.P.MaxRSS), strings.Join(pr.Top, "\n"), strings.Join(pr.Cum, "\n"))
		}
	}
}

// stageOrNil is stage on a size that may not have been measured.
func (s *sizeResult) stageOrNil(run, stage string) *stageRun {
	if s == nil {
		return nil
	}
	return s.stage(run, stage)
}

// allStages are every measured stage process: each size's runs and the Chargebee
// extract's steps, labelled with their size.
func (r *results) allStages() []stageRun {
	var out []stageRun
	for _, s := range r.Sizes {
		for _, st := range s.Stages {
			st.Size = s.N
			out = append(out, st)
		}
	}
	if c := r.Chargebee; c != nil {
		for _, st := range append(append([]stageRun{c.Full}, c.Others...), c.Incr) {
			if st.P.Wall > 0 {
				st.Size = c.N
				out = append(out, st)
			}
		}
	}
	return out
}

func (st stageRun) label() string {
	run := "run " + st.Run
	if st.Run == "cb" {
		run = "Chargebee extract:"
	}
	return fmt.Sprintf("%s %s %s", human(st.Size), run, st.Stage)
}

// profileCause names, for the profiled stages whose description starts with one of
// prefixes, the functions at the top of their profiles of kind ("" both): the
// cause of a missed target as the profile shows it.
func (s *sizeResult) profileCause(kind string, prefixes ...string) string {
	if s == nil {
		return ""
	}
	var parts []string
	for _, p := range s.Profiles {
		if kind != "" && p.Kind != kind {
			continue
		}
		for _, pre := range prefixes {
			if strings.HasPrefix(p.What, pre) {
				part := fmt.Sprintf("%s (%s, peak RSS %s): flat %s; cb2ac's own, cumulative: %s", p.What, p.Kind, mib(p.P.MaxRSS),
					topFuncs(p.Top, 4, 1), topFuncs(p.Cum, 3, 4))
				if p.Kind == "cpu" && strings.Contains(topFuncs(p.Top, 2, 1), "runtime.scanObject") {
					part += " (runtime.scanObject and the like are the garbage collector marking the heap: with the live heap near cb2ac's 900 MiB soft memory limit it runs almost without pause)"
				}
				parts = append(parts, part)
				break
			}
		}
	}
	if len(parts) == 0 {
		return "no profile of it at this size (the stages are profiled at the largest size, unless --no-profiles)"
	}
	return "the top of the profiles (see \"Profiles\"; cb2ac's own functions leave out those holding over 90%, the entry points): " + strings.Join(parts, "; ")
}

// topFuncs reads a go tool pprof -top table: the first n functions with their
// share from column col (1 flat%, 4 cum%), skipping those over 90% (entry points,
// which say nothing of where the time goes) and those with none.
func topFuncs(top []string, n, col int) string {
	var out []string
	table := false
	for _, l := range top {
		f := strings.Fields(l)
		if len(f) == 5 && f[0] == "flat" {
			table = true
			continue
		}
		if !table || len(f) < 6 {
			continue
		}
		pct, err := strconv.ParseFloat(strings.TrimSuffix(f[col], "%"), 64)
		if err != nil || pct > 90 || pct == 0 {
			continue
		}
		out = append(out, fmt.Sprintf("%s %s", strings.TrimPrefix(strings.Join(f[5:], " "), "github.com/cb2ac/cb2ac/"), f[col]))
		if len(out) == n {
			break
		}
	}
	return strings.Join(out, ", ")
}
