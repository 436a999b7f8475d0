// Package chargebeetest is the contract suite of the Chargebee client: one set of
// read-only checks run against every Chargebee the client may meet — the local
// sandbox in `make test`, a real test site in `make test-live` — so the sandbox
// cannot drift from the API it stands in for without a test saying so.
package chargebeetest

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cb2ac/cb2ac/stages/extract/chargebee"
)

// Target is a Chargebee API to check.
type Target struct {
	BaseURL string
	APIKey  chargebee.Secret
	// RatePerMinute for the suite's clients: 0 = the client default (a live site),
	// < 0 = none (a sandbox).
	RatePerMinute float64
	// MaxPages bounds each paged read (live sites can be large); default 3.
	MaxPages int
	// HasDeleted says the site holds a deleted customer, so include_deleted is
	// checked both ways (the fixtures have one); otherwise only its hiding side.
	HasDeleted bool
	// Lists are the list endpoints the target serves (nil: every one of
	// chargebee.Endpoints). A real site serves them all, though an optional one
	// may answer "not on this site" (a Product Catalog 1.0 site's item_prices),
	// which the paging check skips.
	Lists []string
}

func (tg Target) client(t *testing.T, key chargebee.Secret, retries int) *chargebee.Client {
	t.Helper()
	c, err := chargebee.NewClient(chargebee.Config{
		BaseURL: tg.BaseURL, APIKey: key, RatePerMinute: tg.RatePerMinute,
		MaxRetries: retries, BackoffBase: 200 * time.Millisecond, BackoffMax: 5 * time.Second,
		Timeout: 30 * time.Second, UserAgent: "cb2ac-contract",
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Run runs the contract against tg. Every check only reads.
func Run(t *testing.T, tg Target) {
	if tg.MaxPages <= 0 {
		tg.MaxPages = 3
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := tg.client(t, tg.APIKey, 3)

	t.Run("auth", func(t *testing.T) { checkAuth(ctx, t, tg) })
	for _, ep := range chargebee.Endpoints {
		if tg.Lists != nil && !slices.Contains(tg.Lists, ep.Entity) {
			continue
		}
		t.Run("paging/"+ep.Entity, func(t *testing.T) { checkPaging(ctx, t, tg, c, ep) })
	}
	t.Run("updated_at", func(t *testing.T) { checkUpdatedAt(ctx, t, tg, c) })
	t.Run("include_deleted", func(t *testing.T) { checkIncludeDeleted(ctx, t, tg, c) })
	t.Run("errors", func(t *testing.T) { checkErrors(ctx, t, tg) })
}

// checkAuth: "key:" (curl -u key:) and base64(key) with no colon (the official
// SDKs) both work; a wrong key is a one-line 401 that names neither key.
func checkAuth(ctx context.Context, t *testing.T, tg Target) {
	for name, header := range map[string]string{
		"key-colon": "Basic " + base64.StdEncoding.EncodeToString([]byte(tg.APIKey.Reveal()+":")),
		"sdk-form":  "Basic " + base64.StdEncoding.EncodeToString([]byte(tg.APIKey.Reveal())),
	} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(tg.BaseURL, "/")+"/customers?limit=1", nil)
		req.Header.Set("Authorization", header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		page, derr := chargebee.DecodePage(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || derr != nil {
			t.Errorf("%s: status %d, decode error %v; want a 200 list page", name, resp.StatusCode, derr)
		} else if len(page.List) > 1 {
			t.Errorf("%s: limit=1 returned %d entries", name, len(page.List))
		}
	}

	bad := chargebee.Secret("cb2ac_contract_wrong_key_" + strings.Repeat("x", 8))
	_, err := tg.client(t, bad, 3).ListPage(ctx, "customers", chargebee.ListQuery{Limit: 1})
	if !chargebee.IsStatus(err, http.StatusUnauthorized) {
		t.Fatalf("wrong key: got %v, want a 401", err)
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\r\n") || strings.Contains(msg, bad.Reveal()) || strings.Contains(msg, tg.APIKey.Reveal()) {
		t.Errorf("401 message must be one line naming no key: %q", msg)
	}
	if !strings.Contains(msg, "CHARGEBEE_API_KEY") {
		t.Errorf("401 message should say what to fix: %q", msg)
	}
}

// resource returns the entry's object of the entity's kind, as the extract reads it.
func resource(entity string, e chargebee.Entry) (id string, created, updated *int64, deleted bool, ok bool) {
	switch entity {
	case "customers":
		if e.Customer != nil {
			return e.Customer.ID, e.Customer.CreatedAt, e.Customer.UpdatedAt, e.Customer.Deleted, true
		}
	case "subscriptions":
		if e.Subscription != nil {
			return e.Subscription.ID, e.Subscription.CreatedAt, e.Subscription.UpdatedAt, e.Subscription.Deleted, true
		}
	case "invoices":
		if e.Invoice != nil {
			return e.Invoice.ID, e.Invoice.Date, e.Invoice.UpdatedAt, e.Invoice.Deleted, true
		}
	case "credit_notes":
		if e.CreditNote != nil {
			return e.CreditNote.ID, nil, e.CreditNote.UpdatedAt, e.CreditNote.Deleted, true
		}
	case "payment_sources":
		if e.PaymentSource != nil {
			return e.PaymentSource.ID, e.PaymentSource.CreatedAt, e.PaymentSource.UpdatedAt, e.PaymentSource.Deleted, true
		}
	case "item_prices":
		if e.ItemPrice != nil {
			return e.ItemPrice.ID, e.ItemPrice.CreatedAt, e.ItemPrice.UpdatedAt, e.ItemPrice.Deleted, true
		}
	case "items":
		if e.Item != nil {
			return e.Item.ID, nil, e.Item.UpdatedAt, e.Item.Deleted, true
		}
	case "plans":
		if e.Plan != nil {
			return e.Plan.ID, nil, e.Plan.UpdatedAt, e.Plan.Status == "deleted", true
		}
	case "addons":
		if e.Addon != nil {
			return e.Addon.ID, nil, e.Addon.UpdatedAt, e.Addon.Status == "deleted", true
		}
	case "gifts":
		if e.Gift != nil {
			return e.Gift.ID, nil, e.Gift.UpdatedAt, false, true
		}
	}
	return "", nil, nil, false, false
}

// readPages reads up to max pages of a list and returns them.
func readPages(ctx context.Context, t *testing.T, c *chargebee.Client, entity string, q chargebee.ListQuery, max int) []*chargebee.Page {
	t.Helper()
	var pages []*chargebee.Page
	for len(pages) < max {
		p, err := c.ListPage(ctx, entity, q)
		if err != nil {
			t.Fatalf("%s page %d: %v", entity, len(pages)+1, err)
		}
		pages = append(pages, p)
		if p.NextOffset == "" {
			break
		}
		q.Offset = p.NextOffset
	}
	return pages
}

// newestFirst are the lists Chargebee returns newest first (created_at
// descending) when no sort_by is given. Item prices are, by the API reference's
// list_item_prices sample (as the sandbox records it, sandbox/chargebee
// newestFirst; the SDKs do not state a default order). They cannot be asked for
// any created_at order — sort_by takes only name, id and updated_at
// (chargebee-node types/resources/ItemPrice.d.ts ListInputParam,
// src/schema/item_price.schema.ts ListItemPriceSortBySchema) — so the default is
// what a reader gets, and a live run of this suite is what confirms it. Items
// have no created_at to check.
var newestFirst = map[string]bool{"item_prices": true}

// checkPaging: limit is honoured, next_offset leads to the next page and is absent
// at the end, no id repeats across pages, every entry holds the entity's object,
// and the default order is created_at ascending — newest first for the lists in
// newestFirst. The order of invoices and gifts, and of lists whose resource has no
// created_at, is not checked.
func checkPaging(ctx context.Context, t *testing.T, tg Target, c *chargebee.Client, ep chargebee.Endpoint) {
	q := chargebee.ListQuery{Limit: 2, IncludeDeleted: ep.IncludeDeleted}
	if ep.Optional {
		// "Not on this site" skips the list; a parameter the endpoint refuses
		// (param_wrong_value, also a 400) is a client bug and fails below.
		var apiErr *chargebee.APIError
		if _, err := c.ListPage(ctx, ep.Entity, q); err != nil && chargebee.NotOnSite(err) && !(errors.As(err, &apiErr) && apiErr.Code == "param_wrong_value") {
			t.Skipf("%s: not on this site: %v", ep.Entity, err)
		}
	}
	desc := newestFirst[ep.Entity]
	order := "created_at asc"
	if desc {
		order = "created_at desc (newest first)"
	}
	pages := readPages(ctx, t, c, ep.Entity, q, tg.MaxPages)
	seen := map[string]bool{}
	var last *int64
	for i, p := range pages {
		if len(p.List) > 2 {
			t.Errorf("page %d: %d entries with limit=2", i+1, len(p.List))
		}
		if p.NextOffset != "" && len(p.List) == 0 {
			t.Errorf("page %d: empty page with a next_offset", i+1)
		}
		for _, e := range p.List {
			id, created, _, _, ok := resource(ep.Entity, e)
			if !ok || id == "" {
				t.Fatalf("page %d: an entry without its %s object or id", i+1, ep.Entity)
			}
			if seen[id] {
				t.Errorf("page %d: id %s seen on an earlier page", i+1, id)
			}
			seen[id] = true
			if created != nil && ep.Entity != "gifts" && ep.Entity != "invoices" {
				if last != nil && (!desc && *created < *last || desc && *created > *last) {
					t.Errorf("page %d: %s created_at %d out of order after the previous entry's %d: default order is %s", i+1, id, *created, *last, order)
				}
				last = created
			}
		}
	}
}

// checkUpdatedAt: updated_at[after] returns only later objects, and
// sort_by[asc]=updated_at orders them, across pages.
func checkUpdatedAt(ctx context.Context, t *testing.T, tg Target, c *chargebee.Client) {
	first := readPages(ctx, t, c, "customers", chargebee.ListQuery{Limit: 6, SortByUpdated: true, IncludeDeleted: true}, 1)[0]
	if len(first.List) < 2 {
		t.Skip("fewer than two customers: nothing to filter")
	}
	_, _, mid, _, _ := resource("customers", first.List[len(first.List)/2])
	if mid == nil {
		t.Fatal("customer without updated_at")
	}
	after := *mid
	pages := readPages(ctx, t, c, "customers", chargebee.ListQuery{Limit: 3, UpdatedAfter: &after, SortByUpdated: true, IncludeDeleted: true}, tg.MaxPages)
	var last int64
	n := 0
	for _, p := range pages {
		for _, e := range p.List {
			id, _, upd, _, _ := resource("customers", e)
			switch {
			case upd == nil:
				t.Errorf("%s: no updated_at", id)
			case *upd <= after:
				t.Errorf("%s: updated_at %d not after %d", id, *upd, after)
			case *upd < last:
				t.Errorf("%s: updated_at %d after a later one (%d): sort_by[asc]=updated_at", id, *upd, last)
			default:
				last = *upd
			}
			n++
		}
	}
	t.Logf("updated_at[after]=%d: %d customers on %d pages", after, n, len(pages))
}

// checkIncludeDeleted: without include_deleted no deleted object is listed; with
// it, the site's deleted customer shows up (when the target has one).
func checkIncludeDeleted(ctx context.Context, t *testing.T, tg Target, c *chargebee.Client) {
	for _, incl := range []bool{false, true} {
		deleted := 0
		for _, p := range readPages(ctx, t, c, "customers", chargebee.ListQuery{Limit: 100, IncludeDeleted: incl}, tg.MaxPages) {
			for _, e := range p.List {
				if _, _, _, d, _ := resource("customers", e); d {
					deleted++
				}
			}
		}
		switch {
		case !incl && deleted > 0:
			t.Errorf("without include_deleted: %d deleted customers listed", deleted)
		case incl && tg.HasDeleted && deleted == 0:
			t.Errorf("with include_deleted: the deleted customer is missing")
		}
	}
}

// checkErrors: a bad parameter is a 4xx that is not retried; an unknown list is
// a 404; both are one line.
func checkErrors(ctx context.Context, t *testing.T, tg Target) {
	c := tg.client(t, tg.APIKey, -1)
	_, err := c.ListPage(ctx, "customers", chargebee.ListQuery{Limit: 1, Offset: "not-an-offset"})
	var apiErr *chargebee.APIError
	if !errors.As(err, &apiErr) || apiErr.Status < 400 || apiErr.Status >= 500 {
		t.Errorf("bad offset: got %v, want a 4xx", err)
	} else if strings.ContainsAny(err.Error(), "\r\n") {
		t.Errorf("multi-line error: %q", err)
	}
	if n := c.Stats("customers").Requests; n != 1 {
		t.Errorf("a 4xx was sent %d times; it must not be retried", n)
	}
	if _, err := c.ListPage(ctx, "no_such_list", chargebee.ListQuery{Limit: 1}); !chargebee.IsNotFound(err) {
		t.Errorf("unknown list: got %v, want a 404", err)
	}
}
