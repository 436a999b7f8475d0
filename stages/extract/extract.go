// Package extract reads Chargebee data and writes the extract snapshot:
// customers, subscriptions (with card), invoices, item prices and gifts.
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

	// The chargebee source (api.go). The pipeline fills API, Prev and Watermark
	// from the config, the environment and state.json.
	API       chargebee.Config // base URL, key, rate limit, retries
	Prev      string           // previous extract folder to merge into; "" = full read
	Watermark int64            // Prev's watermark, Unix seconds
	Full      bool             // read everything with no updated_at filter, even with Prev
	Since     string           // replaces Watermark (see ParseSince)
	RateLimit float64          // requests per minute; 0 = API.RatePerMinute; < 0 = none
	PageSize  int              // list page size, 1..100 (0 = 100)
	Progress  io.Writer        // live progress line (a terminal), or nil
	Summary   io.Writer        // one line per list read (requests, pages, records), or nil
	Log       *slog.Logger
	Now       func() time.Time
}

// Snapshot is the in-memory extract: what every source produces before it is written.
type Snapshot struct {
	Customers     []schemas.Customer
	Subscriptions []schemas.Subscription
	Invoices      []schemas.Invoice
	ItemPrices    []schemas.ItemPrice
	Gifts         []schemas.Gift
}

// Run reads the source and writes the snapshot files into out.
func Run(ctx context.Context, opts Options, out string) (schemas.Report, error) {
	var (
		snap  *Snapshot
		err   error
		extra map[string]int64
	)
	switch opts.Source {
	case SourceChargebee:
		snap, extra, err = readAPI(ctx, opts)
	case SourcePages:
		snap, err = ReadPages(ctx, opts.In)
	case SourceSnapshot:
		snap, err = ReadSnapshot(opts.In)
	default:
		err = fmt.Errorf("unknown source %q (want %s, %s or %s)", opts.Source, SourceChargebee, SourcePages, SourceSnapshot)
	}
	if err != nil {
		return schemas.Report{}, fmt.Errorf("extract: %w", err)
	}
	if opts.Limit > 0 {
		snap.Limit(opts.Limit)
	}
	if err := snap.Write(ctx, out, opts.CSV); err != nil {
		return schemas.Report{}, fmt.Errorf("extract: %w", err)
	}
	var rep schemas.Report
	rep.Add("customers", int64(len(snap.Customers)))
	rep.Add("subscriptions", int64(len(snap.Subscriptions)))
	rep.Add("invoices", int64(len(snap.Invoices)))
	rep.Add("item_prices", int64(len(snap.ItemPrices)))
	rep.Add("gifts", int64(len(snap.Gifts)))
	for k, v := range extra {
		rep.Add(k, v)
	}
	if extra != nil && opts.Limit > 0 {
		rep.Add(CountLimited, 1)
	}
	return rep, nil
}

// Entity folders of a pages source. Customers and subscriptions must be there; the
// others may be absent (a site without gifts, a Product Catalog 1.0 site).
var pageFolders = []struct {
	name     string
	required bool
}{
	{"customers", true}, {"subscriptions", true}, {"invoices", false}, {"item_prices", false}, {"gifts", false},
}

// ReadPages reads DIR/<entity>/*.json in file-name order, each file one list page.
func ReadPages(ctx context.Context, dir string) (*Snapshot, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("pages folder: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("pages folder %s is not a folder", dir)
	}
	snap := &Snapshot{}
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
	for i, e := range p.List {
		var missing string
		switch entity {
		case "customers":
			if e.Customer == nil {
				missing = "customer"
				break
			}
			s.Customers = append(s.Customers, e.Customer.Record(e.Card))
		case "subscriptions":
			if e.Subscription == nil {
				missing = "subscription"
				break
			}
			s.Subscriptions = append(s.Subscriptions, e.Subscription.Record(e.Card))
		case "invoices":
			if e.Invoice == nil {
				missing = "invoice"
				break
			}
			s.Invoices = append(s.Invoices, e.Invoice.Record())
		case "item_prices":
			if e.ItemPrice == nil {
				missing = "item_price"
				break
			}
			s.ItemPrices = append(s.ItemPrices, e.ItemPrice.Record())
		case "gifts":
			if e.Gift == nil {
				missing = "gift"
				break
			}
			s.Gifts = append(s.Gifts, e.Gift.Record())
		}
		if missing != "" {
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
	s.Customers = dedupe(s.Customers, func(c *schemas.Customer) (string, int64) { return c.ID, c.ResourceVersion })
	s.Subscriptions = dedupe(s.Subscriptions, func(c *schemas.Subscription) (string, int64) { return c.ID, c.ResourceVersion })
	s.Invoices = dedupe(s.Invoices, func(c *schemas.Invoice) (string, int64) { return c.ID, c.ResourceVersion })
	s.ItemPrices = dedupe(s.ItemPrices, func(c *schemas.ItemPrice) (string, int64) { return c.ID, c.ResourceVersion })
	s.Gifts = dedupe(s.Gifts, func(c *schemas.Gift) (string, int64) { return c.ID, c.ResourceVersion })
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

// Limit keeps the n most recently created customers, and the subscriptions, invoices
// and gifts that belong to them: the trial run before a first full sync.
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
	s.Customers = slices.DeleteFunc(s.Customers, func(c schemas.Customer) bool { return !keep[c.ID] })
	s.Subscriptions = slices.DeleteFunc(s.Subscriptions, func(x schemas.Subscription) bool { return !keep[x.CustomerID] })
	s.Invoices = slices.DeleteFunc(s.Invoices, func(x schemas.Invoice) bool { return !keep[x.CustomerID] })
	s.Gifts = slices.DeleteFunc(s.Gifts, func(x schemas.Gift) bool {
		return !keep[x.GifterCustomerID] && !keep[x.ReceiverCustomer]
	})
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// Files of an extract folder.
const (
	CustomersFile     = "customers"
	SubscriptionsFile = "subscriptions"
	InvoicesFile      = "invoices"
	ItemPricesFile    = "item_prices"
	GiftsFile         = "gifts"
)

// Write writes the snapshot's files into dir, one goroutine per file.
func (s *Snapshot) Write(ctx context.Context, dir string, twin bool) error {
	g, _ := errgroup.WithContext(ctx)
	g.Go(func() error { return schemas.Customers.WriteFiles(dir, CustomersFile, s.Customers, twin) })
	g.Go(func() error { return schemas.Subscriptions.WriteFiles(dir, SubscriptionsFile, s.Subscriptions, twin) })
	g.Go(func() error { return schemas.Invoices.WriteFiles(dir, InvoicesFile, s.Invoices, twin) })
	g.Go(func() error { return schemas.ItemPrices.WriteFiles(dir, ItemPricesFile, s.ItemPrices, twin) })
	g.Go(func() error { return schemas.Gifts.WriteFiles(dir, GiftsFile, s.Gifts, twin) })
	return g.Wait()
}

// ReadSnapshot reads an older run's extract folder (the caller has checked its
// manifest). Every file is decoded, so a file of the wrong kind fails here. The
// files are read concurrently: an incremental extract of a large site spends most
// of its time here, not on the API.
func ReadSnapshot(dir string) (*Snapshot, error) {
	s := &Snapshot{}
	p := func(name string) string { return filepath.Join(dir, name+".parquet") }
	var g errgroup.Group
	g.Go(func() (err error) { s.Customers, err = schemas.Customers.ReadFile(p(CustomersFile)); return err })
	g.Go(func() (err error) {
		s.Subscriptions, err = schemas.Subscriptions.ReadFile(p(SubscriptionsFile))
		return err
	})
	g.Go(func() (err error) { s.Invoices, err = schemas.Invoices.ReadFile(p(InvoicesFile)); return err })
	g.Go(func() (err error) { s.ItemPrices, err = schemas.ItemPrices.ReadFile(p(ItemPricesFile)); return err })
	g.Go(func() (err error) { s.Gifts, err = schemas.Gifts.ReadFile(p(GiftsFile)); return err })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return s, nil
}
