package validate

import (
	"context"
	"slices"

	"github.com/cb2ac/cb2ac/internal/strmap"
	"github.com/cb2ac/cb2ac/schemas"
)

// source is one input table. each streams its records to fn in input order, the
// same order on every call: passes find a record's state by its row number. A file
// source decodes only cols (nil: every column; the others are zero) and its records,
// strings included, live in an Arrow batch that stays referenced as long as anything
// points into it: whatever outlives fn must be copied (strings.Clone). A slice
// source ignores cols. rows is the number of records, a hint to size maps by.
type source[T any] interface {
	each(ctx context.Context, cols []string, fn func(*T) error) error
	rows() int
}

// fileSource reads a Parquet file; with a view, it reads projections through V, a
// narrow record type of the same schema: a projection into the full record type
// still allocates and clears every field of every row (448 bytes a customer, 616 a
// subscription), which made a two-column pass cost half a full read. Each projected
// row is copied by conv into one reused T, so the passes see the same record type
// from files and slices.
type fileSource[T, V any] struct {
	tb   *schemas.Table[T]
	path string
	view *schemas.Table[V]
	conv func(*T, *V)
}

func newFileSource[T any](tb *schemas.Table[T], path string) *fileSource[T, T] {
	return &fileSource[T, T]{tb: tb, path: path}
}

func newViewSource[T, V any](tb *schemas.Table[T], path string, conv func(*T, *V)) *fileSource[T, V] {
	return &fileSource[T, V]{tb: tb, path: path, view: schemas.NewTable[V](tb.Name, tb.Version), conv: conv}
}

func (s *fileSource[T, V]) each(ctx context.Context, cols []string, fn func(*T) error) error {
	if cols == nil || s.view == nil || !s.inView(cols) {
		return each(ctx, s.tb, s.path, cols, fn)
	}
	var r T
	return each(ctx, s.view, s.path, cols, func(v *V) error {
		s.conv(&r, v)
		return fn(&r)
	})
}

// inView tells whether the view has every column of cols; a wider pass projects
// into T.
func (s *fileSource[T, V]) inView(cols []string) bool {
	have := s.view.Columns()
	for _, c := range cols {
		if !slices.Contains(have, c) {
			return false
		}
	}
	return true
}

// rows is the footer's count (schemas.Table.Rows); 0 when the file cannot be opened,
// which the pass that reads it reports.
func (s *fileSource[T, V]) rows() int {
	n, _ := s.tb.Rows(s.path)
	return n
}

func each[T any](ctx context.Context, tb *schemas.Table[T], path string, cols []string, fn func(*T) error) error {
	n := 0
	return tb.EachColumns(path, cols, func(r *T) error {
		// A failed sibling pass cancels ctx: stop within a row group instead of
		// reading the rest of a large file for nothing.
		if n++; n%schemas.BatchRows == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return fn(r)
	})
}

type sliceSource[T any] []T

func (s sliceSource[T]) each(_ context.Context, _ []string, fn func(*T) error) error {
	for i := range s {
		if err := fn(&s[i]); err != nil {
			return err
		}
	}
	return nil
}

func (s sliceSource[T]) rows() int { return len(s) }

// Columns each projection pass decodes. They must cover every field the pass reads:
// from a file the others are zero, but a slice source hands over whole records, so
// the rule tests (on Check) would not notice a gap; only runs on files would.
var (
	customerIDCols    = []string{"id"}
	customerRuleCols  = []string{"id", "email", "created_at", "updated_at", "deleted", "resource_version", "pii_cleared"}
	customerEmailCols = []string{"id", "email"}
	subscriptionCols  = []string{"id", "customer_id", "deleted"}
	invoiceCols       = []string{"id", "customer_id", "is_gifted"}
	invoiceSubCols    = []string{"subscription_id"}
	giftCols          = []string{"gifter_customer_id"}
	itemPriceCols     = []string{"id"}
	itemPriceRuleCols = []string{"id", "price"}
	// The rules of pass 4 (checkSubscription, checkInvoice and what
	// subscriptionRules and invoiceRules read around them).
	subscriptionRuleCols = []string{"id", "customer_id", "deleted", "status", "currency_code", "billing_period",
		"billing_period_unit", "mrr", "total_dues", "items", "created_at", "updated_at", "start_date", "started_at",
		"activated_at", "trial_start", "trial_end", "current_term_start", "current_term_end", "next_billing_at",
		"cancelled_at", "pause_date", "resume_date"}
	invoiceRuleCols = []string{"id", "customer_id", "subscription_id", "deleted", "status", "currency_code",
		"total", "sub_total", "tax", "discount", "amount_paid", "amount_due", "amount_refunded",
		"date", "paid_at", "due_date", "updated_at"}
)

// Narrow views of the big tables: the union of the columns above but the rule
// columns of pass 4, which are too many for a view to pay (tags as in
// schemas/records.go). A pass whose columns a view lacks projects into the record
// type (fileSource.each).
type customerView struct {
	ID              string `parquet:"id"`
	Email           string `parquet:"email"`
	CreatedAt       *int64 `parquet:"created_at,timestamp"`
	UpdatedAt       *int64 `parquet:"updated_at,timestamp"`
	ResourceVersion int64  `parquet:"resource_version"`
	Deleted         bool   `parquet:"deleted"`
	PIICleared      string `parquet:"pii_cleared,dict"`
}

func fromCustomerView(r *schemas.Customer, v *customerView) {
	r.ID, r.Email, r.CreatedAt, r.UpdatedAt, r.ResourceVersion, r.Deleted = v.ID, v.Email, v.CreatedAt, v.UpdatedAt, v.ResourceVersion, v.Deleted
	r.PIICleared = v.PIICleared
}

type subscriptionView struct {
	ID         string `parquet:"id"`
	CustomerID string `parquet:"customer_id"`
	Deleted    bool   `parquet:"deleted"`
}

func fromSubscriptionView(r *schemas.Subscription, v *subscriptionView) {
	r.ID, r.CustomerID, r.Deleted = v.ID, v.CustomerID, v.Deleted
}

type invoiceView struct {
	ID             string `parquet:"id"`
	CustomerID     string `parquet:"customer_id"`
	SubscriptionID string `parquet:"subscription_id"`
	IsGifted       bool   `parquet:"is_gifted"`
}

func fromInvoiceView(r *schemas.Invoice, v *invoiceView) {
	r.ID, r.CustomerID, r.SubscriptionID, r.IsGifted = v.ID, v.CustomerID, v.SubscriptionID, v.IsGifted
}

// keyed holds per-key state in a slice, numbered by an internal/strmap index from
// the key: its keys are copied into an arena, so none points into an Arrow batch,
// and neither the arena nor the index has pointers for the GC to walk (a Go map of
// a million string keys was scanned on every cycle of the passes). The number of a
// key is the order it was first added in, which is also strmap's, so idx.Key(i) is
// the key of val[i].
type keyed[V any] struct {
	idx *strmap.Map[int32]
	val []V
}

// newKeyed sized for n keys: growing a map of a million keys rehashed every key
// several times, a third of the first pass.
func newKeyed[V any](n int) *keyed[V] {
	return &keyed[V]{idx: strmap.New[int32](n), val: make([]V, 0, n)}
}

// find is the index of key's state.
func (k *keyed[V]) find(key string) (int32, bool) {
	i, ok := k.idx.Get(key)
	if !ok {
		return -1, false
	}
	return *i, true
}

// get is the state of key, nil when it was never added. The pointer is valid until
// the next add.
func (k *keyed[V]) get(key string) *V {
	if i, ok := k.find(key); ok {
		return &k.val[i]
	}
	return nil
}

// add is the index of key's state, adding a zero state for a new key.
func (k *keyed[V]) add(key string) int32 {
	i, added := k.idx.Put(key)
	if added {
		*i = int32(len(k.val))
		var zero V
		k.val = append(k.val, zero)
	}
	return *i
}

// rowSet is a set of row numbers.
type rowSet []uint64

func (s *rowSet) add(i int) {
	for len(*s) <= i/64 {
		*s = append(*s, 0)
	}
	(*s)[i/64] |= 1 << (i % 64)
}

func (s rowSet) del(i int) {
	if i/64 < len(s) {
		s[i/64] &^= 1 << (i % 64)
	}
}

func (s rowSet) has(i int) bool { return i/64 < len(s) && s[i/64]&(1<<(i%64)) != 0 }
