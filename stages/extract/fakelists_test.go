package extract

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	cbsandbox "github.com/cb2ac/cb2ac/sandbox/chargebee"
)

// listParams is one row of testdata/chargebee/list-params.tsv.
type listParams struct {
	filter, deleted bool
	sorts           []string
}

func readListParams(t testing.TB) map[string]listParams {
	t.Helper()
	b, err := os.ReadFile("../../testdata/chargebee/list-params.tsv")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]listParams{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "endpoint\t") {
			continue
		}
		c := strings.Split(line, "\t")
		out[c[0]] = listParams{filter: c[1] == "yes", deleted: c[2] == "yes", sorts: strings.Split(c[3], ",")}
	}
	return out
}

type fakeEntry struct {
	updated int64
	deleted bool
	raw     []byte
}

type fakeRequest struct {
	Entity string
	Query  url.Values
	Status int
}

// fakeLists serves the list endpoints the Chargebee sandbox does not serve (yet:
// cbsandbox.Entities says which it does; the rest go to next) from entries a test
// adds, accepting only the parameters list-params.tsv gives each endpoint — a
// client bug in the new lists' parameters is a 400 here as it would be on a real
// site. It can also answer any list with an error, as a site without it would.
type fakeLists struct {
	next    http.Handler
	params  map[string]listParams
	mu      sync.Mutex
	entries map[string][]fakeEntry
	fail    map[string]int // entity → status of every answer
	reqs    []fakeRequest
}

func newFakeLists(t testing.TB, next http.Handler) *fakeLists {
	return &fakeLists{next: next, params: readListParams(t), entries: map[string][]fakeEntry{}, fail: map[string]int{}}
}

func (f *fakeLists) add(entity string, updated int64, deleted bool, raw string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries[entity] = append(f.entries[entity], fakeEntry{updated, deleted, []byte(raw)})
}

// update replaces the entry at index i.
func (f *fakeLists) update(entity string, i int, updated int64, raw string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries[entity][i] = fakeEntry{updated: updated, raw: []byte(raw)}
}

func (f *fakeLists) failWith(entity string, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if status == 0 {
		delete(f.fail, entity)
	} else {
		f.fail[entity] = status
	}
}

func (f *fakeLists) requests(entity string) []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeRequest
	for _, r := range f.reqs {
		if r.Entity == entity {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeLists) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = nil
}

func (f *fakeLists) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	entity := strings.TrimPrefix(r.URL.Path, "/api/v2/")
	f.mu.Lock()
	status := f.fail[entity]
	f.mu.Unlock()
	served := f.next != nil && slices.Contains(cbsandbox.Entities, entity)
	if status == 0 && served {
		f.next.ServeHTTP(w, r)
		return
	}
	status, body := f.answer(entity, r.URL.Query(), status)
	f.mu.Lock()
	f.reqs = append(f.reqs, fakeRequest{entity, r.URL.Query(), status})
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

func apiErrorBody(status int, code, msg string) []byte {
	b, _ := json.Marshal(map[string]any{"message": msg, "type": "invalid_request", "api_error_code": code, "http_status_code": status})
	return b
}

func (f *fakeLists) answer(entity string, q url.Values, status int) (int, []byte) {
	switch status {
	case 0:
	case 400:
		return 400, apiErrorBody(400, "configuration_incompatible", "not applicable for this site's product catalog version")
	case 404:
		return 404, apiErrorBody(404, "resource_not_found", "Sorry, we couldn't find that resource")
	default:
		return status, apiErrorBody(status, "internal_error", "failure")
	}
	p, ok := f.params[entity]
	if !ok {
		return 404, apiErrorBody(404, "resource_not_found", "unknown list "+entity)
	}
	limit, offset := 10, 0
	var after *int64
	sortUpdated, includeDeleted := false, false
	for name, vals := range q {
		v := vals[0]
		var err error
		switch {
		case name == "limit":
			limit, err = strconv.Atoi(v)
		case name == "offset":
			offset, err = strconv.Atoi(v)
		case name == "updated_at[after]" && p.filter:
			var n int64
			n, err = strconv.ParseInt(v, 10, 64)
			after = &n
		case name == "sort_by[asc]" && slices.Contains(p.sorts, v):
			sortUpdated = v == "updated_at"
		case name == "include_deleted" && p.deleted:
			includeDeleted = v == "true"
		default:
			err = fmt.Errorf("unsupported")
		}
		if err != nil {
			return 400, apiErrorBody(400, "param_wrong_value", name+" : "+err.Error())
		}
	}
	if after != nil && *after < 0 {
		return 400, apiErrorBody(400, "param_wrong_value", "updated_at[after] : must not be negative")
	}
	f.mu.Lock()
	var list []fakeEntry
	for _, e := range f.entries[entity] {
		if (after == nil || e.updated > *after) && (includeDeleted || !e.deleted) {
			list = append(list, e)
		}
	}
	f.mu.Unlock()
	if sortUpdated {
		sort.SliceStable(list, func(i, j int) bool { return list[i].updated < list[j].updated })
	}
	end := min(offset+limit, len(list))
	var b strings.Builder
	b.WriteString(`{"list":[`)
	for i := offset; i < end; i++ {
		if i > offset {
			b.WriteByte(',')
		}
		b.Write(list[i].raw)
	}
	b.WriteString("]")
	if end < len(list) {
		fmt.Fprintf(&b, `,"next_offset":"%d"`, end)
	}
	b.WriteString("}")
	return 200, []byte(b.String())
}
