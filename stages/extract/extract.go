// Package extract reads Chargebee data and writes the extract snapshot: customers
// (with card), subscriptions (with card), invoices, credit notes, payment sources,
// the product catalog (item prices and items, or plans and addons) and gifts.
package extract

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/extract/chargebee"
)

// Sources.
const (
	SourceChargebee = "chargebee" // the Chargebee API (api.go)
	SourcePages     = "pages"     // a folder of list pages, as the API returns them
	SourceSnapshot  = "snapshot"  // an older run's extract folder (backfill)
)

// Options configure one extract.
type Options struct {
	Source string
	In     string // pages folder or extract folder
	Limit  int    // keep only the N most recently created customers (0 = all)
	CSV    bool   // write CSV twins
	// Stamp goes into every file (schemas.Stamp): this run, and when this extract
	// started.
	Stamp schemas.Stamp

	// The chargebee source (api.go). The pipeline fills API, Prev and Watermarks
	// from the config, the environment and state.json.
	API  chargebee.Config // base URL, key, rate limit, retries
	Prev string           // previous extract folder to merge into; "" = full read
	// Watermarks are Prev's watermarks per list (Unix seconds). A list with none
	// (or 0) is read in full and replaces Prev's copy.
	Watermarks map[string]int64
	Full       bool      // read everything with no updated_at filter, even with Prev
	Since      string    // replaces the lists' watermarks (see ParseSince)
	RateLimit  float64   // requests per minute; 0 = API.RatePerMinute; < 0 = none
	PageSize   int       // list page size, 1..100 (0 = 100)
	Progress   io.Writer // live progress line (a terminal), or nil
	Summary    io.Writer // one line per list read (requests, pages, records), or nil
	Log        *slog.Logger
	Now        func() time.Time
}

// Snapshot is the in-memory extract: what every source produces before it is written.
type Snapshot struct {
	Customers      []schemas.Customer
	Subscriptions  []schemas.Subscription
	Invoices       []schemas.Invoice
	CreditNotes    []schemas.CreditNote
	PaymentSources []schemas.PaymentSource
	ItemPrices     []schemas.ItemPrice
	Items          []schemas.CatalogItem
	Plans          []schemas.CatalogPlan
	Addons         []schemas.CatalogPlan
	Gifts          []schemas.Gift

	// unknown counts the fields Chargebee sent that its SDK does not declare, per
	// list, over the pages read (nil for a snapshot source, which reads no page).
	unknown *drift
}

// Run reads the source and writes the snapshot files into out.
func Run(ctx context.Context, opts Options, out string) (schemas.Report, error) {
	var (
		snap  *Snapshot
		err   error
		extra map[string]int64
	)
	stamp := opts.Stamp
	switch opts.Source {
	case SourceChargebee:
		snap, extra, err = readAPI(ctx, opts)
	case SourcePages:
		snap, err = ReadPages(ctx, opts.In)
	case SourceSnapshot:
		// A copy of an older extract: its data is as old as that extract.
		if snap, err = ReadSnapshot(opts.In); err == nil {
			var in schemas.Stamp
			in, err = schemas.ReadStamp(filepath.Join(opts.In, CustomersFile+".parquet"))
			stamp.ExtractedAt = in.ExtractedAt
		}
	default:
		err = fmt.Errorf("unknown source %q (want %s, %s or %s)", opts.Source, SourceChargebee, SourcePages, SourceSnapshot)
	}
	if err != nil {
		return schemas.Report{}, fmt.Errorf("extract: %w", err)
	}
	if opts.Limit > 0 {
		snap.Limit(opts.Limit)
	}
	if err := snap.Write(ctx, out, opts.CSV, stamp); err != nil {
		return schemas.Report{}, fmt.Errorf("extract: %w", err)
	}
	var rep schemas.Report
	for _, l := range lists {
		rep.Add(l.entity, int64(l.count(snap)))
	}
	for k, v := range extra {
		rep.Add(k, v)
	}
	if extra != nil && opts.Limit > 0 {
		rep.Add(CountLimited, 1)
	}
	rep.Drift = snap.unknown.report()
	return rep, nil
}

// Entity folders of a pages source, one per list. Customers and subscriptions must
// be there; the others may be absent (a site without gifts, either product catalog,
// a folder saved before cb2ac read credit notes and payment sources).
type pageFolder struct {
	name     string
	required bool
}

var pageFolders = func() []pageFolder {
	var out []pageFolder
	for _, l := range lists {
		out = append(out, pageFolder{l.entity, l.entity == CustomersFile || l.entity == SubscriptionsFile})
	}
	return out
}()

// ReadPages reads DIR/<entity>/*.json in file-name order, each file one list page.
func ReadPages(ctx context.Context, dir string) (*Snapshot, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("pages folder: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("pages folder %s is not a folder", dir)
	}
	snap := &Snapshot{unknown: &drift{}}
	g, ctx := errgroup.WithContext(ctx)
	for _, pf := range pageFolders {
		sub := filepath.Join(dir, pf.name)
		files, err := filepath.Glob(filepath.Join(sub, "*.json"))
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			if pf.required {
				return nil, fmt.Errorf("pages folder %s has no %s/*.json pages", dir, pf.name)
			}
			continue
		}
		slices.Sort(files)
		name := pf.name
		g.Go(func() error {
			for _, f := range files {
				if err := ctx.Err(); err != nil {
					return err
				}
				page, err := readPage(f)
				if err != nil {
					return err
				}
				if err := snap.addPage(name, page); err != nil {
					return fmt.Errorf("%s: %w", f, err)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	snap.dedupe()
	return snap, nil
}

func readPage(path string) (*chargebee.Page, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	page, err := chargebee.DecodePage(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return page, nil
}

// addPage appends a page's records to the entity's slice. Each entity is filled by one
// goroutine only, so no lock is needed.
func (s *Snapshot) addPage(entity string, p *chargebee.Page) error {
	l, ok := listFor(entity)
	if !ok {
		return fmt.Errorf("unknown list %q", entity)
	}
	if s.unknown != nil {
		s.unknown.add(entity, p.Unknown)
	}
	for i := range p.List {
		if missing := l.addEntry(s, &p.List[i]); missing != "" {
			return fmt.Errorf("list entry %d has no %q object", i, missing)
		}
	}
	return nil
}

// dedupe collapses an id seen more than once (an overlapping incremental read, or a
// page boundary that moved while paging) to its newest resource_version. Two copies
// with the same resource_version but different content are both kept: that is a real
// conflict, and validate reports it as duplicate_id rather than silently picking one.
func (s *Snapshot) dedupe() {
	for _, l := range lists {
		l.dedupe(s)
	}
}

func dedupe[T any](recs []T, key func(*T) (string, int64)) []T {
	newest := make(map[string]int64, len(recs))
	count := make(map[string]int, len(recs))
	for i := range recs {
		id, v := key(&recs[i])
		if n, ok := newest[id]; !ok || v > n {
			newest[id] = v
		}
		count[id]++
	}
	out := recs[:0]
	kept := make(map[string][]int) // id -> indexes in out
	for i := range recs {
		id, v := key(&recs[i])
		// Records without an id are not copies of each other: each goes on to
		// validate's missing_id row, rather than all but one vanishing here.
		if count[id] > 1 && id != "" {
			if v != newest[id] {
				continue
			}
			dup := false
			for _, k := range kept[id] {
				if reflect.DeepEqual(out[k], recs[i]) {
					dup = true
				}
			}
			if dup {
				continue
			}
			kept[id] = append(kept[id], len(out))
		}
		out = append(out, recs[i])
	}
	return out
}

// Limit keeps the n most recently created customers, and the records of the other
// lists that belong to them (gifts: bought or received by one); the catalog lists
// are kept whole. It is the trial run before a first full sync.
func (s *Snapshot) Limit(n int) {
	if n >= len(s.Customers) {
		return
	}
	byNewest := slices.Clone(s.Customers)
	slices.SortStableFunc(byNewest, func(a, b schemas.Customer) int {
		if c := cmp.Compare(deref(b.CreatedAt), deref(a.CreatedAt)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	keep := make(map[string]bool, n)
	for _, c := range byNewest[:n] {
		keep[c.ID] = true
	}
	for _, l := range lists {
		if l.limit != nil {
			l.limit(s, keep)
		}
	}
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// Write writes the snapshot's files into dir, one goroutine per file.
func (s *Snapshot) Write(ctx context.Context, dir string, twin bool, st schemas.Stamp) error {
	g, _ := errgroup.WithContext(ctx)
	for _, l := range lists {
		g.Go(func() error { return l.write(s, dir, twin, st) })
	}
	return g.Wait()
}

// ReadSnapshot reads an older run's extract folder (the caller has checked its
// manifest). Every file is decoded, so a file of the wrong kind fails here; the
// lists added after format 1 may be absent (an older folder) and read as empty. The
// files are read concurrently: an incremental extract of a large site spends most
// of its time here, not on the API.
func ReadSnapshot(dir string) (*Snapshot, error) {
	s := &Snapshot{}
	var g errgroup.Group
	for _, l := range lists {
		g.Go(func() error { return l.read(s, dir) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return s, nil
}
