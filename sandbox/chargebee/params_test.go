package cbsandbox_test

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	cbsandbox "github.com/cb2ac/cb2ac/sandbox/chargebee"
)

// listParams is one row of testdata/chargebee/list-params.tsv: what a Chargebee
// list endpoint takes besides limit and offset, as the official SDKs declare it.
type listParams struct {
	endpoint         string
	updated, deleted bool
	sorts            []string
}

func readListParams(t *testing.T) []listParams {
	t.Helper()
	f, err := os.Open("../../testdata/chargebee/list-params.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []listParams
	sc := bufio.NewScanner(f)
	header := true
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if header { // endpoint updated_at_filter include_deleted sort_fields
			header = false
			continue
		}
		col := strings.Split(line, "\t")
		if len(col) != 4 {
			t.Fatalf("list-params.tsv: %q has %d columns", line, len(col))
		}
		p := listParams{endpoint: col[0], updated: col[1] == "yes", deleted: col[2] == "yes"}
		if col[3] != "-" {
			p.sorts = strings.Split(col[3], ",")
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The sandbox takes exactly the parameters list-params.tsv gives each endpoint,
// and refuses the others with Chargebee's param_wrong_value.
func TestListParamsMatchTSV(t *testing.T) {
	_, base := start(t, cbsandbox.Options{Pages: fixtures})
	rows := readListParams(t)
	if len(rows) != len(allEntities) {
		t.Errorf("list-params.tsv has %d endpoints, the sandbox serves %d", len(rows), len(allEntities))
	}
	everySort := []string{"created_at", "updated_at", "date", "name", "id"}
	for _, p := range rows {
		if _, ok := kinds[p.endpoint]; !ok {
			t.Errorf("%s: in list-params.tsv, not served", p.endpoint)
			continue
		}
		var ok, refused []url.Values
		for _, op := range []string{"after", "before", "between"} {
			v := url.Values{"updated_at[" + op + "]": {"1700000000"}}
			if op == "between" {
				v.Set("updated_at[between]", `["1700000000","1800000000"]`)
			}
			if p.updated {
				ok = append(ok, v)
			} else {
				refused = append(refused, v)
			}
		}
		if p.deleted {
			ok = append(ok, url.Values{"include_deleted": {"true"}}, url.Values{"include_deleted": {"false"}})
		} else {
			refused = append(refused, url.Values{"include_deleted": {"true"}})
		}
		for _, f := range everySort {
			for _, dir := range []string{"sort_by[asc]", "sort_by[desc]"} {
				if slices.Contains(p.sorts, f) {
					ok = append(ok, url.Values{dir: {f}})
				} else {
					refused = append(refused, url.Values{dir: {f}})
				}
			}
		}
		for _, q := range ok {
			q.Set("limit", "2")
			if a := get(t, base, p.endpoint, q); a.status != http.StatusOK {
				t.Errorf("%s?%s: %d %s, want 200", p.endpoint, q.Encode(), a.status, a.body)
			}
		}
		for _, q := range refused {
			a := get(t, base, p.endpoint, q)
			if a.status != http.StatusBadRequest {
				t.Errorf("%s?%s: %d, want 400", p.endpoint, q.Encode(), a.status)
				continue
			}
			if m := errorBody(t, a); m["api_error_code"] != "param_wrong_value" || m["type"] != "invalid_request" {
				t.Errorf("%s?%s: %s", p.endpoint, q.Encode(), a.body)
			}
		}
	}
	// The brief's examples, spelled out.
	for _, c := range []struct{ entity, param, value string }{
		{"credit_notes", "sort_by[asc]", "updated_at"},
		{"items", "include_deleted", "true"},
		{"item_prices", "sort_by[asc]", "created_at"},
		{"plans", "sort_by[asc]", "updated_at"},
		{"gifts", "updated_at[after]", "1"},
	} {
		if a := get(t, base, c.entity, url.Values{c.param: {c.value}}); a.status != http.StatusBadRequest {
			t.Errorf("%s?%s=%s: %d, want 400", c.entity, c.param, c.value, a.status)
		}
	}
}

// sortable is what the sort test reads of an entry.
type sortable struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt int64  `json:"created_at"`
	Date      int64  `json:"date"`
	UpdatedAt int64  `json:"updated_at"`
}

func (s sortable) key(field string) string {
	switch field {
	case "id":
		return s.ID
	case "name":
		return s.Name
	case "created_at":
		return fmt.Sprintf("%012d", s.CreatedAt)
	case "date":
		return fmt.Sprintf("%012d", s.Date)
	}
	return fmt.Sprintf("%012d", s.UpdatedAt)
}

// Every sort field of every endpoint, both directions, paged 3 at a time: the
// entries come in that order and each exactly once, although many share a key
// (the cursor must hold the key and the internal id, whatever the key's type).
func TestSortEveryField(t *testing.T) {
	srv, base := start(t, cbsandbox.Options{})
	const n = 23
	for _, p := range readListParams(t) {
		kind := kinds[p.endpoint]
		for i := range n {
			// Keys repeat (i%4, i%5, i%3) so ties cross page boundaries; ids and names
			// are not in creation order.
			e := fmt.Sprintf(`{%q:{"id":"%s_%02d","name":"Name %d","created_at":%d,"date":%d,"updated_at":%d}}`,
				kind, kind, (i*7)%n, i%5, 1700000000+int64(i%4)*100, 1700000000+int64(i%4)*100, 1700100000+int64(i%3)*10)
			if err := srv.Add(p.endpoint, []byte(e)); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range p.sorts {
			for _, dir := range []string{"asc", "desc"} {
				q := url.Values{"limit": {"3"}, "sort_by[" + dir + "]": {f}}
				got := readSortable(t, base, p.endpoint, kind, q)
				if len(got) != n {
					t.Errorf("%s sort_by[%s]=%s: %d entries, want %d", p.endpoint, dir, f, len(got), n)
					continue
				}
				seen := map[string]bool{}
				for _, s := range got {
					seen[s.ID] = true
				}
				if len(seen) != n {
					t.Errorf("%s sort_by[%s]=%s: %d distinct ids in %d entries", p.endpoint, dir, f, len(seen), n)
				}
				sorted := slices.IsSortedFunc(got, func(a, b sortable) int {
					if dir == "desc" {
						a, b = b, a
					}
					return cmp.Compare(a.key(f), b.key(f))
				})
				if !sorted {
					t.Errorf("%s sort_by[%s]=%s: out of order", p.endpoint, dir, f)
				}
			}
		}
		// Without sort_by: created_at (date) ascending, item prices and items newest first.
		got := readSortable(t, base, p.endpoint, kind, url.Values{"limit": {"4"}})
		field := "created_at"
		if p.endpoint == "invoices" || p.endpoint == "credit_notes" {
			field = "date"
		}
		desc := p.endpoint == "item_prices" || p.endpoint == "items"
		if len(got) != n || !slices.IsSortedFunc(got, func(a, b sortable) int {
			if desc {
				a, b = b, a
			}
			return cmp.Compare(a.key(field), b.key(field))
		}) {
			t.Errorf("%s: default order broken (%d entries, newest first %v)", p.endpoint, len(got), desc)
		}
	}
}

func readSortable(t *testing.T, base, entity, kind string, q url.Values) []sortable {
	t.Helper()
	var out []sortable
	for pages := 0; ; pages++ {
		a := get(t, base, entity, q)
		if a.status != http.StatusOK {
			t.Fatalf("%s?%s: %d %s", entity, q.Encode(), a.status, a.body)
		}
		var env struct {
			List       []map[string]sortable `json:"list"`
			NextOffset string                `json:"next_offset"`
		}
		if err := json.Unmarshal(a.body, &env); err != nil {
			t.Fatal(err)
		}
		for _, e := range env.List {
			out = append(out, e[kind])
		}
		if env.NextOffset == "" || pages > 100 {
			return out
		}
		q.Set("offset", env.NextOffset)
	}
}

// A fault aimed at one list is taken by that list only; the others pass it by.
func TestInjectForOneEntity(t *testing.T) {
	srv, base := start(t, cbsandbox.Options{Pages: fixtures})
	srv.Inject(cbsandbox.Fault{Entity: "item_prices", Status: http.StatusBadRequest, Code: "configuration_incompatible"}, 1)
	srv.Inject(cbsandbox.Fault{Entity: "item_prices", Status: http.StatusNotFound}, 1)
	srv.Inject(cbsandbox.Fault{Entity: "item_prices", Status: http.StatusInternalServerError}, 1)
	srv.Inject(cbsandbox.Fault{Entity: "customers", Status: http.StatusTooManyRequests, Code: "lock_timeout"}, 1)

	if a := get(t, base, "subscriptions", url.Values{"limit": {"1"}}); a.status != http.StatusOK {
		t.Fatalf("subscriptions took a fault aimed elsewhere: %d", a.status)
	}
	for _, want := range []struct {
		status    int
		typ, code string
	}{
		{400, "invalid_request", "configuration_incompatible"},
		{404, "invalid_request", "resource_not_found"},
		{500, "", "internal_error"},
		{200, "", ""},
	} {
		a := get(t, base, "item_prices", url.Values{"limit": {"1"}})
		if a.status != want.status {
			t.Fatalf("item_prices: %d, want %d", a.status, want.status)
		}
		if want.status == 200 {
			continue
		}
		m := errorBody(t, a)
		if m["api_error_code"] != want.code || (want.typ != "" && m["type"] != want.typ) {
			t.Errorf("item_prices %d: %s", a.status, a.body)
		}
	}
	a := get(t, base, "customers", url.Values{"limit": {"1"}})
	if m := errorBody(t, a); a.status != 429 || m["api_error_code"] != "lock_timeout" || m["type"] != "operation_failed" {
		t.Errorf("customers lock_timeout: %d %s", a.status, a.body)
	}

	// The admin endpoint does the same.
	admin := strings.TrimSuffix(base, "/api/v2") + "/admin/faults?status=400&code=configuration_incompatible&count=2&entity=items"
	if a := call(t, http.MethodPost, admin, colonAuth(testKey)); a.status != http.StatusNoContent {
		t.Fatalf("POST admin faults: %d %s", a.status, a.body)
	}
	if a := get(t, base, "plans", nil); a.status != http.StatusOK {
		t.Errorf("plans took the items fault: %d", a.status)
	}
	for i, want := range []int{400, 400, 200} {
		if a := get(t, base, "items", nil); a.status != want {
			t.Errorf("items request %d: %d, want %d", i, a.status, want)
		}
	}
	bad := strings.TrimSuffix(base, "/api/v2") + "/admin/faults?status=500&count=1&entity=widgets"
	if a := call(t, http.MethodPost, bad, colonAuth(testKey)); a.status != http.StatusBadRequest {
		t.Errorf("fault for an unknown entity: %d", a.status)
	}
}

// A site is Product Catalog 1.0 or 2.0: the other version's lists answer 400
// configuration_incompatible, every time.
func TestProductCatalogVersion(t *testing.T) {
	srv, base := start(t, cbsandbox.Options{Pages: fixtures, ProductCatalog: "2.0"})
	check := func(version string, refused, served []string) {
		t.Helper()
		for _, e := range refused {
			for range 2 {
				a := get(t, base, e, nil)
				m := errorBody(t, a)
				if a.status != 400 || m["api_error_code"] != "configuration_incompatible" || m["type"] != "invalid_request" {
					t.Errorf("PC %s %s: %d %s", version, e, a.status, a.body)
				}
			}
		}
		for _, e := range served {
			if a := get(t, base, e, nil); a.status != 200 {
				t.Errorf("PC %s %s: %d", version, e, a.status)
			}
		}
	}
	check("2.0", []string{"plans", "addons"}, []string{"item_prices", "items", "customers"})
	if err := srv.SetProductCatalog("1.0"); err != nil {
		t.Fatal(err)
	}
	check("1.0", []string{"item_prices", "items"}, []string{"plans", "addons", "customers"})
	admin := strings.TrimSuffix(base, "/api/v2") + "/admin/catalog?version="
	if a := call(t, http.MethodPost, admin+"2.0", colonAuth(testKey)); a.status != http.StatusNoContent {
		t.Fatalf("POST admin catalog: %d", a.status)
	}
	check("2.0", []string{"plans", "addons"}, []string{"item_prices"})
	if a := call(t, http.MethodPost, admin+"3.0", colonAuth(testKey)); a.status != http.StatusBadRequest {
		t.Errorf("catalog 3.0 accepted: %d", a.status)
	}
	if _, err := cbsandbox.New(cbsandbox.Options{ProductCatalog: "1"}); err == nil {
		t.Error(`ProductCatalog "1" accepted`)
	}
}

// The Product Catalog 1.0 fixture site, served as a 1.0 site: plans and addons
// list, item prices and items are refused.
func TestPC1Site(t *testing.T) {
	_, base := start(t, cbsandbox.Options{Pages: "../../fixtures/chargebee-pc1", ProductCatalog: "1.0"})
	for _, e := range []string{"customers", "subscriptions", "invoices", "plans", "addons", "payment_sources"} {
		want := fixtureItems(t, "../../fixtures/chargebee-pc1", e)
		got, _ := readAll(t, base, e, url.Values{"limit": {"3"}})
		if len(want) == 0 || len(got) != len(want) {
			t.Errorf("%s: %d served, %d in the fixtures", e, len(got), len(want))
		}
	}
	for _, e := range []string{"item_prices", "items"} {
		if a := get(t, base, e, nil); a.status != http.StatusBadRequest || errorBody(t, a)["api_error_code"] != "configuration_incompatible" {
			t.Errorf("%s on a 1.0 site: %d %s", e, a.status, a.body)
		}
	}
}
