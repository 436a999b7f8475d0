package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cb2ac/cb2ac/internal/atomicfile"
	"github.com/cb2ac/cb2ac/pipeline"
	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/extract"
	"github.com/cb2ac/cb2ac/stages/extract/chargebee"
)

const (
	formatPages    = "pages"
	formatSnapshot = "snapshot"
)

type options struct {
	customers int
	seed      uint64
	format    string
	out       string
	day2      float64 // fraction changed on day 2; 0 writes day 1
	pageSize  int
	compact   bool
	csv       bool
}

// result says what was written: rows per entity, the generator's tallies of special
// records and day-2 changes, and the extract folder (snapshot format).
type result struct {
	counts     map[string]int64
	extractDir string
}

// Customers go from the generator to the writers in chunks: large enough that
// channel traffic is noise, small enough that a handful in flight stay a few MB.
const chunkCustomers = 2000

// entityWriter writes one entity's records, chunk by chunk, in generation order.
type entityWriter interface {
	name() string
	write(custs []*custOut) error
	finish() error
	abort()
	rows() int64
}

func generate(ctx context.Context, o options) (*result, error) {
	if o.customers < 1 {
		return nil, errors.New("--customers must be at least 1")
	}
	if o.day2 < 0 || o.day2 > 1 {
		return nil, fmt.Errorf("--day2 %v: want a fraction in (0, 1]", o.day2)
	}
	if o.pageSize < 1 || o.pageSize > 100 {
		return nil, fmt.Errorf("--page-size %d: want 1..100 (Chargebee's limit)", o.pageSize)
	}
	g := newGen(o.seed, o.customers, o.day2)
	res := &result{counts: map[string]int64{}}
	var writers []entityWriter
	var err error
	switch o.format {
	case formatPages:
		writers, err = pageWriters(o, g)
	case formatSnapshot:
		res.extractDir, writers, err = snapshotWriters(o)
	default:
		err = fmt.Errorf("--format %q: want %s or %s", o.format, formatPages, formatSnapshot)
	}
	if err != nil {
		return nil, err
	}

	eg, ctx := errgroup.WithContext(ctx)
	chans := make([]chan []*custOut, len(writers))
	for k, w := range writers {
		ch := make(chan []*custOut, 2)
		chans[k] = ch
		eg.Go(func() error {
			for custs := range ch {
				if err := w.write(custs); err != nil {
					return fmt.Errorf("%s: %w", w.name(), err)
				}
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := w.finish(); err != nil {
				return fmt.Errorf("%s: %w", w.name(), err)
			}
			return nil
		})
	}
	eg.Go(func() error {
		defer func() {
			for _, ch := range chans {
				close(ch)
			}
		}()
		for start := 0; start < g.total(); start += chunkCustomers {
			custs := make([]*custOut, 0, chunkCustomers)
			for i := start; i < min(start+chunkCustomers, g.total()); i++ {
				custs = append(custs, g.customer(i))
			}
			for _, ch := range chans {
				select {
				case ch <- custs:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		return nil
	})
	if err := eg.Wait(); err != nil {
		for _, w := range writers {
			w.abort()
		}
		return nil, err
	}
	for _, w := range writers {
		res.counts[w.name()] = w.rows()
	}
	for k, v := range g.counts {
		res.counts[k] = int64(v)
	}
	if o.format == formatSnapshot {
		if err := writeManifest(o, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// ---------------------------------------------------------------- pages

// pageWriter writes DIR/page-NNN.json files of up to size entries each. A page is
// written when the next entry arrives (so it knows it gets a next_offset) or at the
// end; entries are encoded straight into the page buffer.
type pageWriter struct {
	dir     string
	size    int
	width   int
	indent  bool
	w       jw
	count   int   // entries in the page being built
	pages   int   // pages written
	total   int64 // entries so far
	lastKey int64
	file    []byte
}

func newPageWriter(dir string, size, maxEntries int, indent bool) (*pageWriter, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := removePages(dir); err != nil {
		return nil, err
	}
	width := max(3, len(strconv.Itoa(maxEntries/size+1)))
	return &pageWriter{dir: dir, size: size, width: width, indent: indent, w: jw{indent: indent}}, nil
}

func removePages(dir string) error {
	old, err := filepath.Glob(filepath.Join(dir, "page-*.json"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	return nil
}

// begin readies the writer for one entry and returns the encoder to write it with.
func (p *pageWriter) begin() (*jw, error) {
	if p.count == p.size {
		if err := p.flush(true); err != nil {
			return nil, err
		}
	}
	if p.count > 0 {
		p.w.b = append(p.w.b, ',')
	}
	if p.indent {
		p.w.b = append(p.w.b, "\n    "...)
	}
	p.w.depth = 2
	return &p.w, nil
}

// end closes the entry begun last; key is its sort value (seconds), which the
// next_offset of a page ending with it carries, as Chargebee's offsets do.
func (p *pageWriter) end(key int64) {
	p.count++
	p.total++
	p.lastKey = key
}

func (p *pageWriter) addRaw(key int64, entry []byte) error {
	if _, err := p.begin(); err != nil {
		return err
	}
	p.w.b = append(p.w.b, entry...)
	p.end(key)
	return nil
}

func (p *pageWriter) flush(more bool) error {
	f := p.file[:0]
	nl := func(depth int) {
		if p.indent {
			f = append(f, '\n')
			for range depth {
				f = append(f, ' ', ' ')
			}
		}
	}
	sep := ":"
	if p.indent {
		sep = ": "
	}
	f = append(f, '{')
	nl(1)
	f = append(f, `"list"`+sep+`[`...)
	f = append(f, p.w.b...)
	if p.count > 0 {
		nl(1)
	}
	f = append(f, ']')
	if more {
		offset := fmt.Sprintf(`["%d","%d"]`, p.lastKey*1000, 230000000000+(p.total-1)*7+13)
		f = append(f, ',')
		nl(1)
		f = append(f, `"next_offset"`+sep...)
		f = appendQuoted(f, offset)
	}
	nl(0)
	f = append(f, '}', '\n')
	p.file = f
	p.pages++
	name := filepath.Join(p.dir, fmt.Sprintf("page-%0*d.json", p.width, p.pages))
	if err := os.WriteFile(name, f, 0o644); err != nil {
		return err
	}
	p.w.b, p.count = p.w.b[:0], 0
	return nil
}

func appendQuoted(b []byte, s string) []byte {
	var w jw
	w.b = b
	w.str(s)
	return w.b
}

// close writes the last page (an entity with no entries still gets one empty page,
// as the API answers an empty list), then renames the pages to the fewest digits
// that keep them in order: the width had to be fixed before the count was known.
func (p *pageWriter) close() error {
	if p.count > 0 || p.pages == 0 {
		if err := p.flush(false); err != nil {
			return err
		}
	}
	final := max(3, len(strconv.Itoa(p.pages)))
	if final == p.width {
		return nil
	}
	for k := 1; k <= p.pages; k++ {
		from := filepath.Join(p.dir, fmt.Sprintf("page-%0*d.json", p.width, k))
		if err := os.Rename(from, filepath.Join(p.dir, fmt.Sprintf("page-%0*d.json", final, k))); err != nil {
			return err
		}
	}
	p.width = final
	return nil
}

// pageSet is one entity's page folder. On day 2 it is a change set: only the changed
// objects, in updated_at order (what an incremental read returns), held until the
// end to be sorted; they are a small fraction of the site.
type pageSet struct {
	entity    string
	pw        *pageWriter
	changeSet bool
	each      func(custs []*custOut, emit func(key, updated int64, enc func(*jw)) error) error
	held      []heldEntry
}

type heldEntry struct {
	updated, seq int64
	b            []byte
}

func (s *pageSet) name() string { return s.entity }
func (s *pageSet) rows() int64  { return s.pw.total }
func (s *pageSet) abort()       {}

func (s *pageSet) write(custs []*custOut) error {
	return s.each(custs, func(key, updated int64, enc func(*jw)) error {
		if s.changeSet {
			w := jw{indent: s.pw.indent, depth: 2}
			enc(&w)
			s.held = append(s.held, heldEntry{updated, int64(len(s.held)), w.b})
			return nil
		}
		w, err := s.pw.begin()
		if err != nil {
			return err
		}
		enc(w)
		s.pw.end(key)
		return nil
	})
}

func (s *pageSet) finish() error {
	slices.SortFunc(s.held, func(a, b heldEntry) int {
		return cmp.Or(cmp.Compare(a.updated, b.updated), cmp.Compare(a.seq, b.seq))
	})
	for _, h := range s.held {
		if err := s.pw.addRaw(h.updated, h.b); err != nil {
			return err
		}
	}
	s.held = nil
	return s.pw.close()
}

func pageWriters(o options, g *gen) ([]entityWriter, error) {
	changeSet := o.day2 > 0
	all := g.total()
	mk := func(entity string, maxEntries int, each func([]*custOut, func(int64, int64, func(*jw)) error) error) (*pageSet, error) {
		pw, err := newPageWriter(filepath.Join(o.out, entity), o.pageSize, maxEntries, !o.compact)
		if err != nil {
			return nil, err
		}
		return &pageSet{entity: entity, pw: pw, changeSet: changeSet, each: each}, nil
	}
	// The catalog's lists (item prices, items, plans, addons) are written now, whole
	// on day 1, an empty page on day 2 (nothing in the catalog changed).
	catalogPages := func(entity string, n int, enc func(w *jw, i int) (key int64)) error {
		pw, err := newPageWriter(filepath.Join(o.out, entity), o.pageSize, n, !o.compact)
		if err != nil {
			return err
		}
		for i := range n {
			if changeSet {
				break
			}
			w, err := pw.begin()
			if err != nil {
				return err
			}
			pw.end(enc(w, i))
		}
		return pw.close()
	}
	for _, err := range []error{
		catalogPages("item_prices", len(catalog), func(w *jw, i int) int64 { itemPriceEntry(w, catalog[i]); return catalog[i].created }),
		catalogPages(extract.ItemsFile, len(apiItems), func(w *jw, i int) int64 { itemEntry(w, &apiItems[i]); return 0 }),
		catalogPages(extract.PlansFile, len(apiPlans), func(w *jw, i int) int64 {
			p := &apiPlans[i]
			legacyEntry(w, "plan", p.ID, p.Name, p.CurrencyCode, p.Price, p.Period, p.PeriodUnit, p.Status, p.UpdatedAt, p.ResourceVersion)
			return 0
		}),
		catalogPages(extract.AddonsFile, len(apiAddons), func(w *jw, i int) int64 {
			a := &apiAddons[i]
			legacyEntry(w, "addon", a.ID, a.Name, a.CurrencyCode, a.Price, a.Period, a.PeriodUnit, a.Status, a.UpdatedAt, a.ResourceVersion)
			return 0
		}),
	} {
		if err != nil {
			return nil, err
		}
	}

	keep := func(changed bool) bool { return !changeSet || changed }
	customers, err := mk("customers", 2*all, func(custs []*custOut, emit func(int64, int64, func(*jw)) error) error {
		for _, c := range custs {
			if !keep(c.changed) {
				continue
			}
			if err := emit(deref(c.c.CreatedAt), deref(c.c.UpdatedAt), func(w *jw) { customerEntry(w, c, &c.c) }); err != nil {
				return err
			}
			if c.dup != nil {
				if err := emit(deref(c.dup.CreatedAt), deref(c.dup.UpdatedAt), func(w *jw) { customerEntry(w, c, c.dup) }); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	subs, err := mk("subscriptions", maxSubs*all, func(custs []*custOut, emit func(int64, int64, func(*jw)) error) error {
		for _, c := range custs {
			for _, s := range c.subs {
				if !keep(s.changed) {
					continue
				}
				if err := emit(deref(s.s.CreatedAt), deref(s.s.UpdatedAt), func(w *jw) { subscriptionEntry(w, s) }); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	invs, err := mk("invoices", (maxInvsPerCust+1)*all, func(custs []*custOut, emit func(int64, int64, func(*jw)) error) error {
		for _, c := range custs {
			for _, in := range c.invs {
				if !keep(in.changed) {
					continue
				}
				if err := emit(deref(in.v.Date), deref(in.v.UpdatedAt), func(w *jw) { invoiceEntry(w, in) }); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sources, err := mk(extract.PaymentSourcesFile, all, func(custs []*custOut, emit func(int64, int64, func(*jw)) error) error {
		for _, c := range custs {
			ps, ok := apiPaymentSource(c)
			if !ok || !keep(paymentSourceChanged(c)) {
				continue
			}
			if err := emit(deref(ps.CreatedAt), deref(ps.UpdatedAt), func(w *jw) { paymentSourceEntry(w, c, &ps) }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	notes, err := mk(extract.CreditNotesFile, (maxInvsPerCust+1)*all, func(custs []*custOut, emit func(int64, int64, func(*jw)) error) error {
		for _, c := range custs {
			for _, in := range c.invs {
				cn, ok := apiCreditNote(in)
				if !ok || !keep(creditNoteChanged(in)) {
					continue
				}
				if err := emit(deref(cn.Date), deref(cn.UpdatedAt), func(w *jw) { creditNoteEntry(w, &cn) }); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := []entityWriter{customers, subs, invs, sources, notes}
	if changeSet {
		// Like fixtures/chargebee-day2: no gifts folder in a change set.
		if err := removePages(filepath.Join(o.out, "gifts")); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		return out, nil
	}
	gifts, err := mk("gifts", all, func(custs []*custOut, emit func(int64, int64, func(*jw)) error) error {
		for _, c := range custs {
			for _, gf := range c.gifts {
				if err := emit(0, deref(gf.g.UpdatedAt), func(w *jw) { giftEntry(w, gf) }); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return append(out, gifts), nil
}

// ---------------------------------------------------------------- snapshot

// snapWriter streams one entity into its Parquet file through the schemas package,
// converting with the extract stage's own Record methods, so a snapshot holds what
// extracting the same objects from pages would.
type snapWriter[T any] struct {
	entity string
	sink   *schemas.Sink[T]
	buf    []T
	fill   func(buf []T, c *custOut) []T
}

func (s *snapWriter[T]) name() string { return s.entity }
func (s *snapWriter[T]) rows() int64  { return s.sink.Rows() }
func (s *snapWriter[T]) abort()       { s.sink.Abort() }
func (s *snapWriter[T]) finish() error {
	return s.sink.Commit()
}

func (s *snapWriter[T]) write(custs []*custOut) error {
	s.buf = s.buf[:0]
	for _, c := range custs {
		s.buf = s.fill(s.buf, c)
	}
	return s.sink.Write(s.buf...)
}

func newSnapWriter[T any](t *schemas.Table[T], dir, entity string, twin bool, st schemas.Stamp, fill func([]T, *custOut) []T) (*snapWriter[T], error) {
	sink, err := t.CreateSink(dir, entity, twin, st)
	if err != nil {
		return nil, err
	}
	return &snapWriter[T]{entity: entity, sink: sink, fill: fill}, nil
}

// snapshotDirs resolves --out: an extract folder (named extract, inside its run
// folder), or a run folder to hold one.
// snapshotStamp is the run and time the snapshot's files and manifest name: the
// data's "now" (see writeManifest), and the run folder's name when it is a run id.
func snapshotStamp(o options) schemas.Stamp {
	runDir, _ := snapshotDirs(o.out)
	now := day1Now
	if o.day2 > 0 {
		now = day2Now
	}
	at := time.Unix(now, 0).UTC()
	runID := filepath.Base(runDir)
	if pipeline.CheckRunID(runID) != nil {
		runID = pipeline.NewRunID(at)
	}
	return schemas.Stamp{RunID: runID, ExtractedAt: at}
}

func snapshotDirs(out string) (runDir, extractDir string) {
	out = filepath.Clean(out)
	if filepath.Base(out) == pipeline.StageExtract {
		return filepath.Dir(out), out
	}
	return out, filepath.Join(out, pipeline.StageExtract)
}

var snapshotFiles = []string{extract.CustomersFile, extract.SubscriptionsFile, extract.InvoicesFile, extract.ItemPricesFile, extract.GiftsFile,
	extract.PaymentSourcesFile, extract.CreditNotesFile, extract.ItemsFile, extract.PlansFile, extract.AddonsFile}

func snapshotWriters(o options) (string, []entityWriter, error) {
	_, dir := snapshotDirs(o.out)
	if err := os.MkdirAll(dir, atomicfile.DirMode); err != nil {
		return "", nil, err
	}
	for _, f := range snapshotFiles {
		for _, ext := range []string{".parquet", ".csv"} {
			if err := os.Remove(filepath.Join(dir, f+ext)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return "", nil, err
			}
		}
	}
	var ws []entityWriter
	abort := func(err error) (string, []entityWriter, error) {
		for _, w := range ws {
			w.abort()
		}
		return "", nil, err
	}
	// The catalog is small and fixed: written whole, before the customers stream.
	prices := make([]schemas.ItemPrice, 0, len(catalog))
	for _, p := range catalog {
		ip := apiItemPrice(p)
		prices = append(prices, ip.Record())
	}
	if err := schemas.ItemPrices.WriteFiles(dir, extract.ItemPricesFile, prices, o.csv, snapshotStamp(o)); err != nil {
		return abort(err)
	}
	items := make([]schemas.CatalogItem, 0, len(apiItems))
	for i := range apiItems {
		items = append(items, apiItems[i].Record())
	}
	if err := schemas.CatalogItems.WriteFiles(dir, extract.ItemsFile, items, o.csv, snapshotStamp(o)); err != nil {
		return abort(err)
	}
	var plans, addons []schemas.CatalogPlan
	for i := range apiPlans {
		plans = append(plans, apiPlans[i].Record())
	}
	for i := range apiAddons {
		addons = append(addons, apiAddons[i].Record())
	}
	if err := schemas.CatalogPlans.WriteFiles(dir, extract.PlansFile, plans, o.csv, snapshotStamp(o)); err != nil {
		return abort(err)
	}
	if err := schemas.CatalogAddons.WriteFiles(dir, extract.AddonsFile, addons, o.csv, snapshotStamp(o)); err != nil {
		return abort(err)
	}
	cw, err := newSnapWriter(schemas.Customers, dir, extract.CustomersFile, o.csv, snapshotStamp(o), func(buf []schemas.Customer, c *custOut) []schemas.Customer {
		buf = append(buf, snapCustomer(c, &c.c))
		if c.dup != nil {
			buf = append(buf, snapCustomer(c, c.dup))
		}
		return buf
	})
	if err != nil {
		return abort(err)
	}
	ws = append(ws, cw)
	sw, err := newSnapWriter(schemas.Subscriptions, dir, extract.SubscriptionsFile, o.csv, snapshotStamp(o), func(buf []schemas.Subscription, c *custOut) []schemas.Subscription {
		for _, s := range c.subs {
			a := s.s
			a.CancelReasonCode, a.PaymentSourceID = s.x.reasonCode, s.x.paySource
			buf = append(buf, a.Record(c.card))
		}
		return buf
	})
	if err != nil {
		return abort(err)
	}
	ws = append(ws, sw)
	iw, err := newSnapWriter(schemas.Invoices, dir, extract.InvoicesFile, o.csv, snapshotStamp(o), func(buf []schemas.Invoice, c *custOut) []schemas.Invoice {
		for _, in := range c.invs {
			buf = append(buf, snapInvoice(in))
		}
		return buf
	})
	if err != nil {
		return abort(err)
	}
	ws = append(ws, iw)
	gw, err := newSnapWriter(schemas.Gifts, dir, extract.GiftsFile, o.csv, snapshotStamp(o), func(buf []schemas.Gift, c *custOut) []schemas.Gift {
		for _, gf := range c.gifts {
			buf = append(buf, gf.g.Record())
		}
		return buf
	})
	if err != nil {
		return abort(err)
	}
	ws = append(ws, gw)
	pw, err := newSnapWriter(schemas.PaymentSources, dir, extract.PaymentSourcesFile, o.csv, snapshotStamp(o), func(buf []schemas.PaymentSource, c *custOut) []schemas.PaymentSource {
		if ps, ok := apiPaymentSource(c); ok {
			buf = append(buf, ps.Record())
		}
		return buf
	})
	if err != nil {
		return abort(err)
	}
	ws = append(ws, pw)
	nw, err := newSnapWriter(schemas.CreditNotes, dir, extract.CreditNotesFile, o.csv, snapshotStamp(o), func(buf []schemas.CreditNote, c *custOut) []schemas.CreditNote {
		for _, in := range c.invs {
			if cn, ok := apiCreditNote(in); ok {
				buf = append(buf, cn.Record())
			}
		}
		return buf
	})
	if err != nil {
		return abort(err)
	}
	ws = append(ws, nw)
	return dir, ws, nil
}

// writeManifest records the extract stage as finished in the run folder's
// manifest.json, in the pipeline's own types and layout, so `cb2ac validate --in`
// accepts the folder; then it checks that with the pipeline's own CheckInput. The
// stage's times are the data's "now", not the clock, so the same seed gives the same
// bytes.
func writeManifest(o options, res *result) error {
	runDir, dir := snapshotDirs(o.out)
	st := snapshotStamp(o)
	at, runID := st.ExtractedAt, st.RunID
	files, err := pipeline.DescribeFiles(dir)
	if err != nil {
		return err
	}
	source := fmt.Sprintf("scripts/gen --customers %d --seed %d", o.customers, o.seed)
	if o.day2 > 0 {
		source += " --day2 " + strconv.FormatFloat(o.day2, 'g', -1, 64)
	}
	counts := map[string]int64{}
	for _, f := range snapshotFiles {
		counts[f] = res.counts[f]
	}
	counts[extract.ItemPricesFile] = int64(len(catalog))
	counts[extract.ItemsFile] = int64(len(apiItems))
	counts[extract.PlansFile] = int64(len(apiPlans))
	counts[extract.AddonsFile] = int64(len(apiAddons))
	m := pipeline.Manifest{RunID: runID, ToolVersion: "scripts/gen", Stages: map[string]*pipeline.StageRecord{
		pipeline.StageExtract: {
			Status: pipeline.StatusSucceeded, StartedAt: at, EndedAt: &at, ToolVersion: "scripts/gen",
			Inputs: []pipeline.Input{{Dir: source}}, Counts: counts, Files: files,
		},
	}}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(runDir, "manifest.json"), append(b, '\n')); err != nil {
		return err
	}
	if _, err := pipeline.CheckInput(dir, pipeline.StageExtract); err != nil {
		return fmt.Errorf("the snapshot would not be accepted as input: %w", err)
	}
	return nil
}

// The fields the page encoder (encode.go) writes from the generator's extras, set on
// copies of the API structs so that the snapshot format, converted with the extract
// stage's Record methods, holds what an extract of the pages holds.

func snapCustomer(c *custOut, a *chargebee.Customer) schemas.Customer {
	cust := *a
	cust.PIICleared = "active"
	if c.card == nil {
		return cust.Record(nil)
	}
	card := *c.card
	card.PaymentSourceID = c.c.PrimaryPaymentSourceID
	return cust.Record(&card)
}

func snapInvoice(in *invOut) schemas.Invoice {
	v, x := in.v, &in.x
	v.PriceType = "tax_exclusive"
	v.LineItems = nil
	for k, l := range x.lines {
		li := chargebee.InvoiceLineItem{
			ID: hashID("li_", x.seq, int64(k), 17), SubscriptionID: v.SubscriptionID,
			EntityType: l.entityType, EntityID: l.id, DateFrom: ptr(x.from), DateTo: ptr(x.to),
			Amount: ptr(l.amount()),
		}
		if l.itemType == "charge" {
			li.DateTo = ptr(x.from)
		}
		if x.itemDisc[k] > 0 {
			li.ItemLevelDiscountAmount = ptr(x.itemDisc[k])
		}
		v.LineItems = append(v.LineItems, li)
	}
	v.LinkedPayments = nil
	if paid := deref(v.AmountPaid); v.Status == "paid" && paid > 0 {
		v.LinkedPayments = []chargebee.InvoiceLinkedPayment{{
			TxnID: hashID("txn_", x.seq, -1, 16), TxnStatus: "success", TxnDate: ptr(x.transactionAt), AppliedAmount: ptr(paid),
		}}
	}
	return v.Record()
}

func ptr(n int64) *int64 { return &n }
