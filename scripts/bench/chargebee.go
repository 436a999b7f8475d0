package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
	cbsandbox "github.com/cb2ac/cb2ac/sandbox/chargebee"
)

// cbEntity is one list's requests in the full and the incremental extract.
type cbEntity struct {
	Entity      string
	Objects     int // objects the sandbox holds (deleted included) before day 2
	Pages       int64
	Full        int // requests of the full extract
	FullRecords int
	Incr        int // requests of the incremental extract
	IncrRecords int
}

type cbResult struct {
	N         int
	Gen       []genRun
	Entities  []cbEntity
	Full      stageRun
	Incr      stageRun
	Others    []stageRun // validate, transform, load between the two (to advance the watermark)
	FullReqs  int
	IncrReqs  int
	Non200    int
	IncrQuery string // the updated_at filter the incremental extract sent (one example)
}

// chargebee measures the API extract: a full read of n customers from the Chargebee
// sandbox (limits off), then, after the day-2 change set is applied there, an
// incremental read. The watermark moves only when a run's load finishes, so the
// full run is validated, transformed and loaded (into an AC sandbox) in between.
func (b *bench) chargebee(ctx context.Context, n int) (*cbResult, error) {
	cr := &cbResult{N: n}
	dir := filepath.Join(b.work, "chargebee-"+strconv.Itoa(n))
	pages1, pages2 := filepath.Join(dir, "pages-day1"), filepath.Join(dir, "pages-day2")
	for _, g := range []struct{ what, out string }{{"pages day 1", pages1}, {"pages day-2 change set (1%)", pages2}} {
		if _, err := os.Stat(filepath.Join(g.out, "customers")); err == nil {
			cr.Gen = append(cr.Gen, genRun{What: g.what + " (reused)", Bytes: dirSize(g.out)})
			continue
		}
		args := []string{"--customers", strconv.Itoa(n), "--format", "pages", "--compact", "--out", g.out}
		if g.out == pages2 {
			args = append(args, "--day2")
		}
		p, err := b.r.run("gen-"+filepath.Base(g.out), b.env, nil, b.gen, args...)
		if err != nil {
			return cr, err
		}
		cr.Gen = append(cr.Gen, genRun{What: g.what, P: p, Bytes: dirSize(g.out)})
		fmt.Printf("  gen %-28s %6.1fs  %s\n", g.what, p.Wall.Seconds(), mib(dirSize(g.out)))
	}

	key := randomSecret()
	cb, err := cbsandbox.New(cbsandbox.Options{APIKey: key, Pages: pages1})
	if err != nil {
		return cr, err
	}
	cbURL, err := cb.Start()
	if err != nil {
		return cr, err
	}
	defer cb.Close()
	token := randomSecret()
	ac, err := acsandbox.New(acsandbox.Options{Token: token, ApplyDelay: b.o.applyDelay, BulkImportPerMinute: -1, BulkSinglePerMinute: -1})
	if err != nil {
		return cr, err
	}
	acURL, err := ac.Start()
	if err != nil {
		return cr, err
	}
	defer ac.Close()

	data := filepath.Join(dir, "data")
	if err := os.RemoveAll(data); err != nil {
		return cr, err
	}
	cfg, err := b.writeConfig(dir)
	if err != nil {
		return cr, err
	}
	env := withEnv(b.env, "CHARGEBEE_API_URL="+cbURL, "CHARGEBEE_API_KEY="+key, "AC_API_URL="+acURL, "AC_API_TOKEN="+token)
	objects := cb.Counts()
	const full, incr = "20260102T020000Z", "20260103T020000Z"

	step := func(label, run, stage string, ok []int, args ...string) (stageRun, error) {
		common := []string{"--data-dir", data, "--config", cfg, "--run-id", run}
		p, err := b.r.run("cb-"+label, env, ok, b.cb2ac, append(common, args...)...)
		man := filepath.Join(data, "runs", run, "manifest.json")
		sr := stageRun{Run: "cb", Stage: label, P: p, Out: stageOf(man, stage)}
		fmt.Printf("    %-22s %7.2fs wall %7.2fs cpu %8s peak RSS  (others used %.1fs cpu meanwhile)\n", label, p.Wall.Seconds(), p.CPU().Seconds(), mib(p.MaxRSS), p.Others.Seconds())
		return sr, err
	}

	cb.ResetRequests()
	if cr.Full, err = step("extract --full", full, "extract", nil, "extract", "--source", "chargebee", "--full"); err != nil {
		return cr, err
	}
	cr.Full.RowsIn = cr.Full.Out.parquetRows()
	fullReqs := cb.Requests()
	for _, s := range []struct{ label, stage string }{{"validate", "validate"}, {"transform", "transform"}, {"load", "load"}} {
		sr, err := step(s.label, full, s.stage, []int{2}, s.stage)
		if err != nil {
			return cr, err
		}
		if s.stage == "load" && sr.P.Exit == 2 {
			cr.Others = append(cr.Others, sr)
			return cr, fmt.Errorf("the load rejected records (exit 2), so the extract watermark did not move: no incremental extract")
		}
		cr.Others = append(cr.Others, sr)
	}

	if err := cb.Apply(pages2); err != nil {
		return cr, err
	}
	cb.ResetRequests()
	if cr.Incr, err = step("extract (incremental)", incr, "extract", nil, "extract", "--source", "chargebee"); err != nil {
		return cr, err
	}
	cr.Incr.RowsIn = cr.Incr.Out.parquetRows()
	incrReqs := cb.Requests()

	byEntity := map[string]*cbEntity{}
	ent := func(e string) *cbEntity {
		if byEntity[e] == nil {
			byEntity[e] = &cbEntity{Entity: e, Objects: objects[e]}
		}
		return byEntity[e]
	}
	for e := range objects {
		ent(e)
	}
	for _, r := range fullReqs {
		if r.Entity == "" {
			continue
		}
		if r.Status != 200 {
			cr.Non200++
		}
		cr.FullReqs++
		ent(r.Entity).Full++
		ent(r.Entity).FullRecords += r.Records
	}
	for _, r := range incrReqs {
		if r.Entity == "" {
			continue
		}
		if r.Status != 200 {
			cr.Non200++
		}
		cr.IncrReqs++
		ent(r.Entity).Incr++
		ent(r.Entity).IncrRecords += r.Records
		if cr.IncrQuery == "" {
			for k, v := range r.Query {
				if len(k) > 10 && k[:10] == "updated_at" && len(v) > 0 {
					cr.IncrQuery = k + "=" + v[0]
				}
			}
		}
	}
	for _, e := range sortedKeys(byEntity) {
		x := byEntity[e]
		x.Pages = max(1, ceilDiv(int64(x.Objects), 100))
		cr.Entities = append(cr.Entities, *x)
	}
	fmt.Printf("    chargebee requests: full %d, incremental %d\n", cr.FullReqs, cr.IncrReqs)
	if !b.o.keep && b.o.work == "" {
		os.RemoveAll(data)
	}
	return cr, nil
}
