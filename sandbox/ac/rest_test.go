package acsandbox

import (
	"encoding/json"
	"net/http"
	"testing"
)

func TestLists(t *testing.T) {
	_, c := newTest(t, Options{Lists: []string{"Customers", "Trial Users", "Gifts"}})
	all := c.must(http.StatusOK, "GET", "/api/3/lists", nil)
	if str(all, "meta", "total") != "3" || str(all, "lists", 1, "name") != "Trial Users" ||
		str(all, "lists", 1, "stringid") != "trial-users" || str(all, "lists", 1, "id") != "2" {
		t.Fatalf("lists: %v", all)
	}
	pg := c.must(http.StatusOK, "GET", "/api/3/lists?limit=1&offset=2", nil)
	if n := len(pg["lists"].([]any)); n != 1 || str(pg, "lists", 0, "name") != "Gifts" || str(pg, "meta", "total") != "3" {
		t.Fatalf("page: %v", pg)
	}
	byName := c.must(http.StatusOK, "GET", "/api/3/lists?filters[name]=Customers", nil)
	if str(byName, "meta", "total") != "1" || str(byName, "lists", 0, "id") != "1" {
		t.Fatalf("filters[name]: %v", byName)
	}
	none := c.must(http.StatusOK, "GET", "/api/3/lists?filters[name]=Custom", nil)
	if str(none, "meta", "total") != "0" || len(none["lists"].([]any)) != 0 {
		t.Fatalf("filters[name] must be exact: %v", none)
	}
	one := c.must(http.StatusOK, "GET", "/api/3/lists/2", nil)
	if str(one, "list", "name") != "Trial Users" {
		t.Fatalf("list 2: %v", one)
	}
	r := c.do("GET", "/api/3/lists/7", nil)
	if r.status != http.StatusNotFound {
		t.Fatalf("list 7: %d", r.status)
	}
	sameJSON(t, r.body, "list-get.error-404.json")
}

func TestDefaultList(t *testing.T) {
	_, c := newTest(t, Options{})
	m := c.must(http.StatusOK, "GET", "/api/3/lists", nil)
	if str(m, "lists", 0, "name") != "Customers" || str(m, "lists", 0, "id") != "1" || str(m, "meta", "total") != "1" {
		t.Fatalf("default lists: %v", m)
	}
}

func TestConnections(t *testing.T) {
	srv, c := newTest(t, Options{})
	created := c.must(http.StatusOK, "POST", "/api/3/connections", sample(t, "connections-create.request.json"))
	conn := created["connection"].(map[string]any)
	if conn["id"] != "1" || conn["service"] != "fooCommerce" || conn["externalid"] != "toystore123" || conn["listId"] != "1" ||
		str(conn, "links", "customers") == "" {
		t.Fatalf("created: %v", created)
	}
	c.must(http.StatusOK, "POST", "/api/3/connections", map[string]any{"connection": map[string]any{
		"service": "chargebee", "externalid": "acme", "name": "Acme", "logoUrl": "https://x/l.png", "linkUrl": "https://x/"}})

	got := c.must(http.StatusOK, "GET", "/api/3/connections?filters[service]=chargebee&filters[externalid]=acme", nil)
	if str(got, "meta", "total") != "1" || str(got, "connections", 0, "id") != "2" {
		t.Fatalf("filtered: %v", got)
	}
	got = c.must(http.StatusOK, "GET", "/api/3/connections?filters[service]=chargebee&filters[externalid]=other", nil)
	if str(got, "meta", "total") != "0" {
		t.Fatalf("filtered: %v", got)
	}
	if all := c.must(http.StatusOK, "GET", "/api/3/connections", nil); str(all, "meta", "total") != "2" {
		t.Fatalf("all: %v", all)
	}

	r := c.do("POST", "/api/3/connections", map[string]any{"connection": map[string]any{"service": "x", "name": "y"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("missing fields: %d %s", r.status, r.body)
	}
	var e struct {
		Errors []apiError `json:"errors"`
	}
	json.Unmarshal(r.body, &e)
	if len(e.Errors) != 3 {
		t.Fatalf("want one error per missing field (externalid, logoUrl, linkUrl): %s", r.body)
	}
	for _, it := range e.Errors {
		if it.Code != "field_missing" {
			t.Fatalf("code %q: %s", it.Code, r.body)
		}
	}
	if e.Errors[0].Source["pointer"] != "/data/attributes/externalid" {
		t.Fatalf("pointer: %s", r.body)
	}
	if r := c.do("POST", "/api/3/connections", "{"); r.status != http.StatusBadRequest {
		t.Fatalf("bad JSON: %d", r.status)
	}
	c.must(http.StatusOK, "DELETE", "/api/3/connections/1", nil)
	if r := c.do("GET", "/api/3/connections/1", nil); r.status != http.StatusNotFound {
		t.Fatalf("deleted connection: %d", r.status)
	}
	if n := len(srv.Snapshot().Connections); n != 1 {
		t.Fatalf("%d connections left", n)
	}
}

func TestFields(t *testing.T) {
	srv, c := newTest(t, Options{Lists: []string{"Customers", "Other"}})
	created := c.must(http.StatusCreated, "POST", "/api/3/fields", map[string]any{"field": map[string]any{
		"type": "text", "title": "Test Title", "descript": "d", "visible": 1, "ordernum": 1}})
	f := created["field"].(map[string]any)
	if f["id"] != "1" || f["title"] != "Test Title" || f["perstag"] != "TEST_TITLE" || f["type"] != "text" {
		t.Fatalf("created: %v", created)
	}

	// Duplicate title, whatever its case: exactly the documented 422.
	r := c.do("POST", "/api/3/fields", map[string]any{"field": map[string]any{"type": "text", "title": "Test Title"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("duplicate title: %d", r.status)
	}
	sameJSON(t, r.body, "fields-create.error-422.json")
	r = c.do("POST", "/api/3/fields", map[string]any{"field": map[string]any{"type": "text", "title": "TEST title"}})
	if r.status != http.StatusUnprocessableEntity || str(r.json(t), "errors", 0, "code") != "duplicate" {
		t.Fatalf("case-insensitive duplicate title: %d %s", r.status, r.body)
	}

	var variants []json.RawMessage
	json.Unmarshal(sample(t, "fields-create.error-422-variants.json"), &variants)
	r = c.do("POST", "/api/3/fields", map[string]any{"field": map[string]any{"type": "text", "title": "Other", "perstag": "Perstag"}})
	if r.status != http.StatusCreated {
		t.Fatalf("perstag field: %d %s", r.status, r.body)
	}
	if got := str(r.json(t), "field", "perstag"); got != "PERSTAG" {
		t.Fatalf("perstag %q", got)
	}
	r = c.do("POST", "/api/3/fields", map[string]any{"field": map[string]any{"type": "text", "title": "Third", "perstag": "Perstag"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("duplicate perstag: %d", r.status)
	}
	assertSameJSON(t, r.body, variants[1])
	r = c.do("POST", "/api/3/fields", map[string]any{"field": map[string]any{"type": "text"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("no title: %d", r.status)
	}
	assertSameJSON(t, r.body, variants[0])
	r = c.do("POST", "/api/3/fields", map[string]any{"field": map[string]any{"title": "No type"}})
	if r.status != http.StatusUnprocessableEntity || str(r.json(t), "errors", 0, "code") != "field_missing" {
		t.Fatalf("no type: %d %s", r.status, r.body)
	}
	r = c.do("POST", "/api/3/fields", map[string]any{"field": map[string]any{"title": "Bad type", "type": "color"}})
	if r.status != http.StatusUnprocessableEntity || str(r.json(t), "errors", 0, "code") != "field_invalid" {
		t.Fatalf("bad type: %d %s", r.status, r.body)
	}
	// A derived perstag that is taken gets a suffix instead of an error.
	r = c.do("POST", "/api/3/fields", map[string]any{"field": map[string]any{"title": "Test-Title!", "type": "date"}})
	if r.status != http.StatusCreated || str(r.json(t), "field", "perstag") != "TEST_TITLE_2" {
		t.Fatalf("derived perstag: %d %s", r.status, r.body)
	}

	// fieldRels: list 2, all lists (0), unknown field or list.
	// The documented request names field 8 and list 2; field 8 does not exist here.
	r = c.do("POST", "/api/3/fieldRels", sample(t, "fieldRels-create.request.json"))
	if r.status != http.StatusUnprocessableEntity || str(r.json(t), "errors", 0, "source", "pointer") != "/data/attributes/field" {
		t.Fatalf("sample fieldRel with unknown field: %d %s", r.status, r.body)
	}
	rel := c.must(http.StatusCreated, "POST", "/api/3/fieldRels", map[string]any{"fieldRel": map[string]any{"field": 1, "relid": 2}})
	if path(rel, "fieldRel", "relid") != float64(2) || path(rel, "fieldRel", "field") != float64(1) || str(rel, "fieldRel", "id") == "" {
		t.Fatalf("fieldRel: %v", rel)
	}
	again := c.must(http.StatusCreated, "POST", "/api/3/fieldRels", map[string]any{"fieldRel": map[string]any{"field": "1", "relid": "2"}})
	if str(again, "fieldRel", "id") != str(rel, "fieldRel", "id") {
		t.Fatalf("re-attaching made a second relation: %v vs %v", again, rel)
	}
	c.must(http.StatusCreated, "POST", "/api/3/fieldRels", map[string]any{"fieldRel": map[string]any{"field": 2, "relid": 0}})
	r = c.do("POST", "/api/3/fieldRels", map[string]any{"fieldRel": map[string]any{"field": 99, "relid": 1}})
	if r.status != http.StatusUnprocessableEntity || str(r.json(t), "errors", 0, "code") != "related_missing" {
		t.Fatalf("unknown field: %d %s", r.status, r.body)
	}
	r = c.do("POST", "/api/3/fieldRels", map[string]any{"fieldRel": map[string]any{"field": 1, "relid": 9}})
	if r.status != http.StatusUnprocessableEntity || str(r.json(t), "errors", 0, "code") != "related_missing" {
		t.Fatalf("unknown list: %d %s", r.status, r.body)
	}

	list := c.must(http.StatusOK, "GET", "/api/3/fields?limit=2", nil)
	if str(list, "meta", "total") != "3" || len(list["fields"].([]any)) != 2 {
		t.Fatalf("fields page: %v", list)
	}
	if rels := path(list, "fields", 0, "relations").([]any); len(rels) != 1 {
		t.Fatalf("field 1 relations: %v", list)
	}
	if n := len(list["fieldRels"].([]any)); n != 2 {
		t.Fatalf("fieldRels of the page: %d", n)
	}
	capped := c.must(http.StatusOK, "GET", "/api/3/fields?limit=500&offset=1", nil)
	if len(capped["fields"].([]any)) != 2 {
		t.Fatalf("offset: %v", capped)
	}
	one := c.must(http.StatusOK, "GET", "/api/3/fields/2", nil)
	if str(one, "field", "title") != "Other" || str(one, "fieldRels", 0, "relid") != "0" {
		t.Fatalf("field 2: %v", one)
	}
	if r := c.do("GET", "/api/3/fields/42", nil); r.status != http.StatusNotFound || str(r.json(t), "message") == "" {
		t.Fatalf("field 42: %d %s", r.status, r.body)
	}
	byTag := c.must(http.StatusOK, "GET", "/api/3/fields?filters[perstag]=PERSTAG", nil)
	if str(byTag, "meta", "total") != "1" {
		t.Fatalf("filters[perstag]: %v", byTag)
	}
	sn := srv.Snapshot()
	if len(sn.Fields) != 3 || len(sn.FieldRels) != 2 {
		t.Fatalf("snapshot: %+v %+v", sn.Fields, sn.FieldRels)
	}
}

func assertSameJSON(t *testing.T, got []byte, want []byte) {
	t.Helper()
	var g, w any
	json.Unmarshal(got, &g)
	json.Unmarshal(want, &w)
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Fatalf("got  %s\nwant %s", gb, wb)
	}
}

func TestUnknownRoute(t *testing.T) {
	_, c := newTest(t, Options{})
	for _, p := range []string{"/api/3/deals", "/contacts", "/api/3/lists/1/extra"} {
		r := c.do("GET", p, nil)
		if r.status != http.StatusNotFound || str(r.json(t), "message") == "" {
			t.Fatalf("%s: %d %s", p, r.status, r.body)
		}
	}
	if r := c.do("PATCH", "/api/3/lists", nil); r.status != http.StatusNotFound {
		t.Fatalf("PATCH: %d", r.status)
	}
}
