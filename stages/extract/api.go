package extract

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/term"

	"github.com/cb2ac/cb2ac/stages/extract/chargebee"
)

// Overlap is how far before the watermark an incremental read starts. updated_at
// has one-second resolution and clocks drift, so an object changed in the same
// second as the last read (or just before, by Chargebee's clock) is read again and
// collapses by id rather than being missed.
const Overlap = 5 * time.Minute

// IncrementalExtraPages is what an incremental read may page beyond twice the
// previous copy's pages (100,000 records at 100 a page) before it stops as a
// read without end; --full lifts it.
const IncrementalExtraPages = 1000

// Counts an API extract reports besides the entity counts. The pipeline reads the
// watermarks and the format from the manifest to advance state.json when the run
// succeeds.
const (
	// CountWatermark is the newest of the lists' watermarks (0: none), for people;
	// the next read uses the lists' own (CountListWatermark).
	CountWatermark = "watermark"
	// CountListWatermark + entity is one list's watermark (Unix seconds, see
	// readAPI); absent for a list that has none (never read, read empty, or read
	// without an updated_at filter: it is read in full every time).
	CountListWatermark = "watermark."
	CountFormat        = "format"      // the extract's Format
	CountIncremental   = "incremental" // 1 when merged into a previous extract
	CountLimited       = "limited"     // 1 when --limit cut the snapshot: never a base
)

// ListWatermarks picks the per-list watermarks out of an API extract's counts.
func ListWatermarks(counts map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range counts {
		if e, ok := strings.CutPrefix(k, CountListWatermark); ok && v > 0 {
			out[e] = v
		}
	}
	return out
}

// ParseSince reads a --since value: RFC 3339, 2006-01-02T15:04:05 or 2006-01-02
// (UTC), or Unix seconds.
func ParseSince(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: want RFC 3339 (2026-11-20T02:00:00Z), a date (2026-11-20) or Unix seconds", s)
}

// ProgressTo returns w when it is a terminal (live progress is noise in a log file
// or a pipe), else nil.
func ProgressTo(w io.Writer) io.Writer {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if !term.IsTerminal(int(f.Fd())) { // a pipe, a file, /dev/null: no progress
		return nil
	}
	return f
}

// readAPI reads the Chargebee API: every list in full, or, with a previous extract,
// each list that has a watermark there only for what changed since it, merged by id
// into the previous copy. Each list has its own watermark, moved only by a
// successful read of that list, and taken from Chargebee's clock only, never this
// host's (a host ahead of Chargebee would otherwise set a watermark Chargebee has
// not reached, one behind it would re-read more than needed): the largest
// updated_at the read saw, never later than the Date of Chargebee's first answer
// to that list. Lists are read concurrently and finish at different times; a
// single watermark taken at the end would skip what changed in a list after that
// list finished, which the per-list maximum avoids (a later change has a later
// updated_at, by Chargebee's clock). The cap at the list's first answer keeps what
// changed during the read: a list not sorted by updated_at (credit notes, plans,
// addons) may have served a record before it changed and a later-changed one
// after, and the overlap alone covers only 5 minutes of that. A list skipped as
// not on this site keeps its previous copy and watermark; a list with no
// watermark (never read, read empty, new in this version) is read in full.
func readAPI(ctx context.Context, opts Options) (*Snapshot, map[string]int64, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	incremental := opts.Prev != "" && !opts.Full
	var since int64
	switch {
	case opts.Since != "" && opts.Full:
		return nil, nil, errors.New("--since and --full exclude each other")
	case opts.Since != "" && !incremental:
		return nil, nil, errors.New("--since needs a previous extract of this site to merge into, and there is none yet: run a full extract first")
	case opts.Since != "":
		t, err := ParseSince(opts.Since)
		if err != nil {
			return nil, nil, err
		}
		since = t.Unix()
	}

	var prev *Snapshot
	if incremental {
		var err error
		if prev, err = ReadSnapshot(opts.Prev); err != nil {
			return nil, nil, fmt.Errorf("previous extract %s: %w", opts.Prev, err)
		}
	}

	cfg := opts.API
	if opts.RateLimit != 0 {
		cfg.RatePerMinute = opts.RateLimit
	}
	if cfg.Log == nil {
		cfg.Log = log
	}
	client, err := chargebee.NewClient(cfg)
	if err != nil {
		return nil, nil, err
	}
	if incremental {
		log.Info("chargebee incremental extract", "api_url", client.BaseURL(), "base", opts.Prev, "watermarks", fmt.Sprint(opts.Watermarks))
	} else {
		log.Info("chargebee full extract", "api_url", client.BaseURL())
	}

	prog := newProgress(opts.Progress)
	delta := &Snapshot{unknown: &drift{}}
	queries := map[string]chargebee.ListQuery{}
	filtered := map[string]bool{} // lists read with updated_at[after]
	skipped := map[string]bool{}
	firstDate := map[string]int64{} // the Date of Chargebee's first answer per list
	var skipMu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	for _, ep := range chargebee.Endpoints {
		var after *int64
		if wm := opts.Watermarks[ep.Entity]; incremental && wm > 0 {
			a := wm - int64(Overlap/time.Second)
			if opts.Since != "" {
				a = since - int64(Overlap/time.Second)
			}
			after = &a
		}
		q := ep.Query(opts.PageSize, after)
		if after != nil {
			// An incremental read holds what changed: at most the previous copy
			// again, plus what was created since. Its page limit scales with the
			// previous copy (the client's own limit still applies).
			l, _ := listFor(ep.Entity)
			size := opts.PageSize
			if size <= 0 || size > chargebee.MaxPageSize {
				size = chargebee.MaxPageSize
			}
			q.MaxPages = 2*((l.count(prev)+size-1)/size) + IncrementalExtraPages
		}
		skipMu.Lock() // the goroutines of earlier lists may write these maps
		queries[ep.Entity] = q
		filtered[ep.Entity] = q.UpdatedAfter != nil
		skipMu.Unlock()
		g.Go(func() error {
			t0 := time.Now()
			read := func(q chargebee.ListQuery) error {
				first := true
				return client.List(gctx, ep.Entity, q, func(p *chargebee.Page) error {
					if first {
						first = false
						if q.UpdatedAfter != nil && p.Date > 0 && *q.UpdatedAfter > p.Date {
							// Nothing has changed after a time Chargebee has not reached:
							// the filter would skip every change until it does.
							return &futureError{after: *q.UpdatedAfter, date: p.Date}
						}
						skipMu.Lock()
						firstDate[ep.Entity] = p.Date
						skipMu.Unlock()
					}
					prog.add(ep.Entity, len(p.List))
					return delta.addPage(ep.Entity, p)
				})
			}
			err := read(q)
			if fe := (*futureError)(nil); errors.As(err, &fe) {
				// A restored or hand-edited state.json: read the list in full, once.
				log.Warn("chargebee list watermark is later than Chargebee's clock; reading the list in full", "entity", ep.Entity,
					"updated_after", time.Unix(fe.after, 0).UTC().Format(time.RFC3339), "chargebee_date", time.Unix(fe.date, 0).UTC().Format(time.RFC3339))
				full := ep.Query(opts.PageSize, nil)
				skipMu.Lock()
				queries[ep.Entity], filtered[ep.Entity] = full, false
				skipMu.Unlock()
				err = read(full)
			}
			st := client.Stats(ep.Entity)
			if err != nil && ep.Optional && chargebee.NotOnSite(err) {
				// A site without gifts, or the other product catalog's lists: the
				// pages source treats these folders as optional too.
				log.Warn("chargebee list not available on this site; skipped", "entity", ep.Entity, "product_catalog", ep.Catalog, "err", err.Error())
				skipMu.Lock()
				skipped[ep.Entity] = true
				skipMu.Unlock()
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", ep.Entity, err)
			}
			log.Info("chargebee list read", "entity", ep.Entity, "requests", st.Requests, "retries", st.Retries, "pages", st.Pages, "records", st.Records, "duration_ms", time.Since(t0).Milliseconds())
			return nil
		})
	}
	err = g.Wait()
	prog.done()
	if err != nil {
		return nil, nil, err
	}
	// A list skipped after some pages were read holds nothing of it: what was read
	// is not the list.
	for _, l := range lists {
		if skipped[l.entity] {
			l.merge("prev", delta, &Snapshot{}, delta)
		}
	}
	delta.dedupe()

	watermarks := map[string]int64{}
	for _, ep := range chargebee.Endpoints {
		l, _ := listFor(ep.Entity)
		old := int64(0)
		if incremental {
			old = opts.Watermarks[ep.Entity]
		}
		switch {
		case !ep.UpdatedAtFilter:
			// Read in full every time: no watermark.
		case skipped[ep.Entity]:
			if incremental && old > 0 {
				watermarks[ep.Entity] = old
			}
		default:
			wm := l.maxUpdated(delta)
			if filtered[ep.Entity] {
				wm = max(wm, old)
			}
			if d := firstDate[ep.Entity]; d > 0 {
				wm = min(wm, d)
			}
			if wm > 0 {
				watermarks[ep.Entity] = wm
			}
		}
	}

	snap := delta
	if incremental {
		snap = merge(prev, delta, filtered, skipped)
		snap.unknown = delta.unknown
	}
	snap.sortCanonical()

	counts := map[string]int64{CountIncremental: 0, CountFormat: Format}
	var newest int64
	for e, wm := range watermarks {
		counts[CountListWatermark+e] = wm
		newest = max(newest, wm)
	}
	counts[CountWatermark] = newest
	if incremental {
		counts[CountIncremental] = 1
	}
	var total int64
	for _, ep := range chargebee.Endpoints {
		st := client.Stats(ep.Entity)
		if opts.Summary != nil {
			mode := "full"
			switch {
			case skipped[ep.Entity] && incremental:
				mode = "skipped (not on this site): previous copy kept"
			case skipped[ep.Entity]:
				mode = "skipped (not on this site)"
			case filtered[ep.Entity]:
				mode = "changed since " + time.Unix(*queries[ep.Entity].UpdatedAfter, 0).UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(opts.Summary, "%-9s %-15s requests=%d pages=%d records=%d retries=%d  %s\n",
				"chargebee", ep.Entity, st.Requests, st.Pages, st.Records, st.Retries, mode)
		}
		p := "api." + ep.Entity + "."
		counts[p+"requests"], counts[p+"pages"], counts[p+"records"] = st.Requests, st.Pages, st.Records
		if st.Retries > 0 {
			counts[p+"retries"] = st.Retries
		}
		if skipped[ep.Entity] {
			counts[p+"skipped"] = 1
		}
		total += st.Requests
	}
	counts["api.requests"] = total
	return snap, counts, nil
}

// futureError is an incremental read whose updated_at[after] is later than the
// Date of Chargebee's answer: a watermark in the future (a restored or edited
// state.json, a clock set back), which would skip every change until Chargebee's
// clock reaches it.
type futureError struct{ after, date int64 }

func (e *futureError) Error() string {
	return fmt.Sprintf("updated_at[after] %d is later than Chargebee's clock %d", e.after, e.date)
}

// merge lays the changes over the previous extract, list by list. Lists read with
// an updated_at filter replace, by id, the previous copies of what changed (deleted
// objects come back with deleted=true, so they stay, marked); lists read in full
// replace the previous list; skipped lists keep it.
func merge(prev, delta *Snapshot, filtered, skipped map[string]bool) *Snapshot {
	out := &Snapshot{}
	for _, l := range lists {
		mode := "delta"
		switch {
		case skipped[l.entity]:
			mode = "prev"
		case filtered[l.entity]:
			mode = "merge"
		}
		l.merge(mode, out, prev, delta)
	}
	return out
}

// mergeList replaces every previous copy of an id the delta holds, unless the
// previous copy has a newer resource_version (a stale read must not undo a change).
// The previous list is in canonical order (sortCanonical wrote it), so the few
// changes are sorted and merged in rather than the whole list sorted again.
func mergeList[T any](mode string, prev, delta []T, key func(*T) (string, int64), cmp func(a, b T) int) []T {
	switch mode {
	case "prev":
		return prev
	case "delta":
		return delta
	}
	newest := make(map[string]int64, len(delta))
	for i := range delta {
		id, v := key(&delta[i])
		if n, ok := newest[id]; !ok || v > n {
			newest[id] = v
		}
	}
	keepPrev := map[string]bool{}
	for i := range prev {
		id, v := key(&prev[i])
		if n, ok := newest[id]; ok && v > n {
			keepPrev[id] = true
		}
	}
	kept := make([]T, 0, len(prev))
	for i := range prev {
		id, _ := key(&prev[i])
		if _, changed := newest[id]; !changed || keepPrev[id] {
			kept = append(kept, prev[i])
		}
	}
	var changes []T
	for i := range delta {
		if id, _ := key(&delta[i]); !keepPrev[id] {
			changes = append(changes, delta[i])
		}
	}
	slices.SortStableFunc(changes, cmp)
	out := make([]T, 0, len(kept)+len(changes))
	i, j := 0, 0
	for i < len(kept) && j < len(changes) {
		if cmp(changes[j], kept[i]) < 0 {
			out = append(out, changes[j])
			j++
		} else {
			out = append(out, kept[i])
			i++
		}
	}
	out = append(out, kept[i:]...)
	return append(out, changes[j:]...)
}

// sortCanonical puts each list in canonical order (see lists.go). The sort is
// stable: copies of one id keep their order.
func (s *Snapshot) sortCanonical() {
	for _, l := range lists {
		l.sort(s)
	}
}

func cmpBy[T any](key func(*T) (*int64, string)) func(a, b T) int {
	t := func(p *int64) int64 {
		if p == nil {
			return math.MinInt64
		}
		return *p
	}
	return func(a, b T) int {
		at, aid := key(&a)
		bt, bid := key(&b)
		return cmp.Or(cmp.Compare(t(at), t(bt)), strings.Compare(aid, bid))
	}
}

// sortStable skips lists already in order (a full read mostly is, a merge always
// is): moving 100k large records costs more than checking them.
func sortStable[T any](recs []T, cmp func(a, b T) int) {
	if !slices.IsSortedFunc(recs, cmp) {
		slices.SortStableFunc(recs, cmp)
	}
}

// progress draws one live line — pages and records per entity — on a terminal.
type progress struct {
	w       io.Writer
	mu      sync.Mutex
	pages   map[string]*atomic.Int64
	records map[string]*atomic.Int64
	stop    chan struct{}
	wg      sync.WaitGroup
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, pages: map[string]*atomic.Int64{}, records: map[string]*atomic.Int64{}}
	for _, ep := range chargebee.Endpoints {
		p.pages[ep.Entity], p.records[ep.Entity] = &atomic.Int64{}, &atomic.Int64{}
	}
	if w == nil {
		return p
	}
	p.stop = make(chan struct{})
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.draw("\r")
			}
		}
	}()
	return p
}

func (p *progress) add(entity string, records int) {
	p.pages[entity].Add(1)
	p.records[entity].Add(int64(records))
}

func (p *progress) draw(prefix string) {
	var b strings.Builder
	b.WriteString(prefix + "extract ")
	for _, ep := range chargebee.Endpoints {
		fmt.Fprintf(&b, " %s %d/%dp", ep.Entity, p.records[ep.Entity].Load(), p.pages[ep.Entity].Load())
	}
	// The cursor goes back to column 0: a log line written between two ticks
	// overwrites the progress line instead of being glued to its end.
	p.mu.Lock()
	io.WriteString(p.w, b.String()+"\x1b[K\r")
	p.mu.Unlock()
}

func (p *progress) done() {
	if p.w == nil {
		return
	}
	close(p.stop)
	p.wg.Wait()
	p.draw("\r")
	io.WriteString(p.w, "\n")
}
