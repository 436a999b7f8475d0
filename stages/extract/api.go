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

	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/extract/chargebee"
)

// Overlap is how far before the watermark an incremental read starts. updated_at
// has one-second resolution and clocks drift, so an object changed in the same
// second as the last read (or just before, by Chargebee's clock) is read again and
// collapses by id rather than being missed.
const Overlap = 5 * time.Minute

// Counts an API extract reports besides the entity counts. The pipeline reads
// CountWatermark from the manifest to advance state.json when the run succeeds.
const (
	CountWatermark   = "watermark"   // largest updated_at read (Unix seconds), see readAPI
	CountIncremental = "incremental" // 1 when merged into a previous extract
	CountLimited     = "limited"     // 1 when --limit cut the snapshot: never a base
)

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
// what changed since its watermark merged by id into it. The watermark it reports is
// the largest updated_at read, never later than the moment the read started: entities
// are read concurrently and finish at different times, and a watermark taken from
// the last one to finish would skip what changed in the others after they finished.
func readAPI(ctx context.Context, opts Options) (*Snapshot, map[string]int64, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	started := now()

	incremental := opts.Prev != "" && !opts.Full
	var after int64
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
		after = t.Unix() - int64(Overlap/time.Second)
	case incremental:
		after = opts.Watermark - int64(Overlap/time.Second)
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
		log.Info("chargebee incremental extract", "api_url", client.BaseURL(), "base", opts.Prev, "updated_after", after, "watermark", opts.Watermark)
	} else {
		log.Info("chargebee full extract", "api_url", client.BaseURL())
	}

	prog := newProgress(opts.Progress)
	delta := &Snapshot{}
	filtered := map[string]bool{} // entities read with updated_at[after]
	skipped := map[string]bool{}
	var skipMu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	for _, ep := range chargebee.Endpoints {
		q := chargebee.ListQuery{Limit: opts.PageSize, IncludeDeleted: ep.IncludeDeleted}
		if incremental && ep.UpdatedAtFilter {
			q.UpdatedAfter, q.SortByUpdated = &after, true
			filtered[ep.Entity] = true
		}
		g.Go(func() error {
			t0 := time.Now()
			err := client.List(gctx, ep.Entity, q, func(p *chargebee.Page) error {
				prog.add(ep.Entity, len(p.List))
				return delta.addPage(ep.Entity, p)
			})
			st := client.Stats(ep.Entity)
			if err != nil && ep.Optional && optionalMissing(err) {
				// A site without gifts, or a Product Catalog 1.0 site without item
				// prices: the pages source treats these folders as optional too.
				log.Warn("chargebee list not available on this site; skipped", "entity", ep.Entity, "err", err.Error())
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
	delta.dedupe()
	seen := delta.maxUpdatedAt()

	snap := delta
	if incremental {
		snap = merge(prev, delta, filtered, skipped)
	}
	snap.sortCanonical()

	watermark := min(max(opts.Watermark, seen), started.Unix())
	counts := map[string]int64{CountWatermark: watermark, CountIncremental: 0}
	if incremental {
		counts[CountIncremental] = 1
	}
	var total int64
	for _, ep := range chargebee.Endpoints {
		st := client.Stats(ep.Entity)
		if opts.Summary != nil {
			mode := "full"
			switch {
			case skipped[ep.Entity]:
				mode = "skipped (not on this site)"
			case filtered[ep.Entity]:
				mode = "changed since " + time.Unix(after, 0).UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(opts.Summary, "%-9s %-14s requests=%d pages=%d records=%d retries=%d  %s\n",
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

// optionalMissing says whether an optional list's error means "this site does not
// have it" (400 configuration_incompatible and the like, or 404) rather than a
// failure; a wrong key or site fails on the required lists anyway.
func optionalMissing(err error) bool {
	var e *chargebee.APIError
	if !errors.As(err, &e) {
		return false
	}
	return e.Status == 400 || (e.Status == 404 && e.Code != "site_not_found")
}

// merge lays the changes over the previous extract. Lists read with an updated_at
// filter replace, by id, the previous copies of what changed (deleted objects come
// back with deleted=true, so they stay, marked); lists read in full replace the
// previous list; skipped lists keep it.
func merge(prev, delta *Snapshot, filtered, skipped map[string]bool) *Snapshot {
	pick := func(entity string) string {
		switch {
		case skipped[entity]:
			return "prev"
		case filtered[entity]:
			return "merge"
		}
		return "delta"
	}
	out := &Snapshot{}
	out.Customers = mergeList(pick("customers"), prev.Customers, delta.Customers, func(c *schemas.Customer) (string, int64) { return c.ID, c.ResourceVersion }, cmpCustomer)
	out.Subscriptions = mergeList(pick("subscriptions"), prev.Subscriptions, delta.Subscriptions, func(c *schemas.Subscription) (string, int64) { return c.ID, c.ResourceVersion }, cmpSubscription)
	out.Invoices = mergeList(pick("invoices"), prev.Invoices, delta.Invoices, func(c *schemas.Invoice) (string, int64) { return c.ID, c.ResourceVersion }, cmpInvoice)
	out.ItemPrices = mergeList(pick("item_prices"), prev.ItemPrices, delta.ItemPrices, func(c *schemas.ItemPrice) (string, int64) { return c.ID, c.ResourceVersion }, cmpItemPrice)
	out.Gifts = mergeList(pick("gifts"), prev.Gifts, delta.Gifts, func(c *schemas.Gift) (string, int64) { return c.ID, c.ResourceVersion }, cmpGift)
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

// The canonical order of each list is the API's default order — created_at
// (invoices: date), then id — so a merged snapshot and a full read of the same
// state come out row for row the same.
var (
	cmpCustomer     = cmpBy(func(c *schemas.Customer) (*int64, string) { return c.CreatedAt, c.ID })
	cmpSubscription = cmpBy(func(c *schemas.Subscription) (*int64, string) { return c.CreatedAt, c.ID })
	cmpInvoice      = cmpBy(func(c *schemas.Invoice) (*int64, string) { return c.Date, c.ID })
	cmpItemPrice    = cmpBy(func(c *schemas.ItemPrice) (*int64, string) { return c.CreatedAt, c.ID })
	cmpGift         = cmpBy(func(c *schemas.Gift) (*int64, string) { return nil, c.ID })
)

// sortCanonical puts each list in canonical order. The sort is stable: copies of
// one id keep their order.
func (s *Snapshot) sortCanonical() {
	sortStable(s.Customers, cmpCustomer)
	sortStable(s.Subscriptions, cmpSubscription)
	sortStable(s.Invoices, cmpInvoice)
	sortStable(s.ItemPrices, cmpItemPrice)
	sortStable(s.Gifts, cmpGift)
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

// maxUpdatedAt is the largest updated_at in the snapshot (0 when empty).
func (s *Snapshot) maxUpdatedAt() int64 {
	var m int64
	upd := func(t *int64) {
		if t != nil && *t > m {
			m = *t
		}
	}
	for i := range s.Customers {
		upd(s.Customers[i].UpdatedAt)
	}
	for i := range s.Subscriptions {
		upd(s.Subscriptions[i].UpdatedAt)
	}
	for i := range s.Invoices {
		upd(s.Invoices[i].UpdatedAt)
	}
	for i := range s.ItemPrices {
		upd(s.ItemPrices[i].UpdatedAt)
	}
	for i := range s.Gifts {
		upd(s.Gifts[i].UpdatedAt)
	}
	return m
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
