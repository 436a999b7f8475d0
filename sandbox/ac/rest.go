package acsandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// flexString decodes what AC accepts for ids and values: a JSON string or number
// (kept as its text). Null and absence both leave it unset.
type flexString struct {
	set bool
	s   string
}

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '"':
		if err := json.Unmarshal(b, &f.s); err != nil {
			return err
		}
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		f.s = string(b)
	case bytes.Equal(b, []byte("true")), bytes.Equal(b, []byte("false")):
		f.s = string(b)
	default:
		return fmt.Errorf("expected a string or a number, got %s", b)
	}
	f.set = true
	return nil
}

// decodeBody decodes a JSON body; on failure it returns the 400 to send.
func decodeBody(ri *reqInfo, v any) (response, bool) {
	if len(bytes.TrimSpace(ri.body)) == 0 {
		return reply(http.StatusBadRequest, map[string]any{"message": "The request body is empty; send a JSON object."}), false
	}
	if err := json.Unmarshal(ri.body, v); err != nil {
		return reply(http.StatusBadRequest, map[string]any{"message": "The request body is not valid JSON: " + err.Error()}), false
	}
	return response{}, true
}

// apiError is one entry of AC's JSON:API-style errors[].
type apiError struct {
	Title  string         `json:"title"`
	Detail string         `json:"detail"`
	Code   string         `json:"code"`
	Source map[string]any `json:"source,omitempty"`
}

func errs422(e ...apiError) response {
	return reply(http.StatusUnprocessableEntity, map[string]any{"errors": e})
}

func pointer(attr string) map[string]any {
	return map[string]any{"pointer": "/data/attributes/" + attr}
}

func notFound(msg string) response {
	return reply(http.StatusNotFound, map[string]any{"message": msg})
}

// page reads limit/offset the way AC does: limit defaults to 20 and is capped at 100.
func page(r *http.Request) (limit, offset int) {
	limit = 20
	if v, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && v > 0 {
		limit = min(v, 100)
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("offset")); err == nil && v > 0 {
		offset = v
	}
	return limit, offset
}

func window2[T any](all []T, limit, offset int) []T {
	if offset >= len(all) {
		return []T{}
	}
	return all[offset:min(len(all), offset+limit)]
}

func meta(total int) map[string]any { return map[string]any{"total": strconv.Itoa(total)} }

// acTime formats like AC does (an offset, never "Z").
func acTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05-07:00") }

// ---- lists ----

func listJSON(l *listRec) map[string]any {
	return map[string]any{
		"stringid": l.StringID, "userid": "1", "name": l.Name, "cdate": acTime(l.Created),
		"p_use_tracking": "1", "p_use_analytics_read": "0", "p_use_analytics_link": "0",
		"p_embed_image": "1", "p_use_captcha": "1", "send_last_broadcast": "0", "private": "0",
		"require_name": "0", "get_unsubscribe_reason": "0", "to_name": "Subscriber", "optinoptout": "1",
		"sender_name": "", "sender_url": "", "sender_reminder": "", "optinmessageid": "0", "optoutconf": "0",
		"deletestamp": nil, "udate": nil,
		"links": map[string]any{
			"contactGoalLists": "/api/3/lists/" + l.ID + "/contactGoalLists",
			"user":             "/api/3/lists/" + l.ID + "/user",
			"addressLists":     "/api/3/lists/" + l.ID + "/addressLists",
		},
		"id": l.ID, "user": "1",
	}
}

// listLists filters by exact (case-sensitive) name: the reference documents
// filters[name] without saying how it compares, so clients must not rely on case
// folding.
func (s *Server) listLists(r *http.Request, _ *reqInfo) response {
	q := r.URL.Query()
	name, byName := q["filters[name]"]
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range s.st.Lists {
		if byName && l.Name != name[0] {
			continue
		}
		out = append(out, listJSON(l))
	}
	limit, offset := page(r)
	return reply(http.StatusOK, map[string]any{"lists": window2(out, limit, offset), "meta": meta(len(out))})
}

func (s *Server) getList(r *http.Request, _ *reqInfo) response {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.st.list(id)
	if l == nil {
		return notFound("No Result found for _List with id " + id)
	}
	return reply(http.StatusOK, map[string]any{"list": listJSON(l)})
}

// createList serves POST /lists, which cb2ac never calls (the user makes the list):
// the contract suite makes a list of its own there, and removes it after. AC's docs
// require name, stringid, sender_url and sender_reminder; a taken stringid is a 422
// duplicate (UNVERIFIED: the reference does not cover list creation).
func (s *Server) createList(r *http.Request, ri *reqInfo) response {
	var req struct {
		List *struct {
			Name           flexString `json:"name"`
			StringID       flexString `json:"stringid"`
			SenderURL      flexString `json:"sender_url"`
			SenderReminder flexString `json:"sender_reminder"`
		} `json:"list"`
	}
	if resp, ok := decodeBody(ri, &req); !ok {
		return resp
	}
	if req.List == nil {
		return errs422(apiError{Title: "The list was not provided.", Detail: `Wrap the body under "list".`, Code: "field_missing"})
	}
	l := req.List
	var missing []apiError
	for _, f := range []struct {
		name string
		v    flexString
	}{{"name", l.Name}, {"stringid", l.StringID}, {"sender_url", l.SenderURL}, {"sender_reminder", l.SenderReminder}} {
		if strings.TrimSpace(f.v.s) == "" {
			missing = append(missing, apiError{Title: "The list " + f.name + " was not provided.", Code: "field_missing", Source: pointer(f.name)})
		}
	}
	if len(missing) > 0 {
		return errs422(missing...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.st.Lists {
		if x.StringID == l.StringID.s {
			return errs422(apiError{Title: "There is already a list with this stringid", Code: "duplicate", Source: pointer("stringid")})
		}
	}
	rec := s.st.addList(l.Name.s, s.now())
	rec.StringID = l.StringID.s
	s.touch()
	ri.count = 1
	return reply(http.StatusCreated, map[string]any{"list": listJSON(rec)})
}

// deleteList removes a list and every membership in it.
func (s *Server) deleteList(r *http.Request, ri *reqInfo) response {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, l := range s.st.Lists {
		if l.ID != id {
			continue
		}
		s.st.Lists = append(s.st.Lists[:i], s.st.Lists[i+1:]...)
		for _, c := range s.st.Contacts {
			delete(c.Lists, id)
		}
		kept := s.st.FieldRels[:0]
		for _, rel := range s.st.FieldRels {
			if rel.RelID != id {
				kept = append(kept, rel)
			}
		}
		s.st.FieldRels = kept
		s.touch()
		ri.count = 1
		return reply(http.StatusOK, map[string]any{})
	}
	return notFound("No Result found for _List with id " + id)
}

// ---- connections ----

func connJSON(c *connRec) map[string]any {
	return map[string]any{
		"isInternal": "0", "service": c.Service, "externalid": c.ExternalID, "name": c.Name,
		"logoUrl": c.LogoURL, "linkUrl": c.LinkURL, "listId": c.ListID, "status": "1", "syncStatus": "0",
		"lastSync": nil, "cdate": acTime(c.Created), "udate": acTime(c.Updated),
		"links": map[string]any{"customers": "/api/3/connections/" + c.ID + "/customers"},
		"id":    c.ID,
	}
}

func (s *Server) listConnections(r *http.Request, _ *reqInfo) response {
	q := r.URL.Query()
	svc, bySvc := q["filters[service]"]
	ext, byExt := q["filters[externalid]"]
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, c := range s.st.Connections {
		if (bySvc && c.Service != svc[0]) || (byExt && c.ExternalID != ext[0]) {
			continue
		}
		out = append(out, connJSON(c))
	}
	limit, offset := page(r)
	return reply(http.StatusOK, map[string]any{"connections": window2(out, limit, offset), "meta": meta(len(out))})
}

func (s *Server) getConnection(r *http.Request, _ *reqInfo) response {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.st.connection(id)
	if c == nil {
		return notFound("No Result found for Connection with id " + id)
	}
	return reply(http.StatusOK, map[string]any{"connection": connJSON(c)})
}

// updateConnection changes the fields present in the body of an existing
// connection (AC reference, "Update a connection": service, externalid, name,
// logoUrl, linkUrl, status, syncStatus); a field present but empty is refused
// like on create. 404 for an unknown id.
func (s *Server) updateConnection(r *http.Request, ri *reqInfo) response {
	id := r.PathValue("id")
	var req struct {
		Connection *struct {
			Service    flexString `json:"service"`
			ExternalID flexString `json:"externalid"`
			Name       flexString `json:"name"`
			LogoURL    flexString `json:"logoUrl"`
			LinkURL    flexString `json:"linkUrl"`
		} `json:"connection"`
	}
	if resp, ok := decodeBody(ri, &req); !ok {
		return resp
	}
	if req.Connection == nil {
		return errs422(apiError{Title: "The connection was not provided.", Detail: `Wrap the body under "connection".`, Code: "field_missing", Source: pointer("connection")})
	}
	in := req.Connection
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.st.connection(id)
	if c == nil {
		return notFound("No Result found for Connection with id " + id)
	}
	type field struct {
		name string
		v    flexString
		dst  *string
	}
	fields := []field{{"service", in.Service, &c.Service}, {"externalid", in.ExternalID, &c.ExternalID}, {"name", in.Name, &c.Name},
		{"logoUrl", in.LogoURL, &c.LogoURL}, {"linkUrl", in.LinkURL, &c.LinkURL}}
	for _, f := range fields {
		if f.v.set && strings.TrimSpace(f.v.s) == "" {
			return errs422(apiError{Title: "The connection " + f.name + " was not provided.", Code: "field_missing", Source: pointer(f.name)})
		}
	}
	for _, f := range fields {
		if f.v.set {
			*f.dst = f.v.s
		}
	}
	c.Updated = s.now()
	s.touch()
	ri.count = 1
	return reply(http.StatusOK, map[string]any{"connection": connJSON(c)})
}

// createConnection answers 200 like the documented sample. (service, externalid) is
// not enforced unique (UNVERIFIED in the reference): a client that POSTs twice gets
// two connections, which a test can see in Snapshot.
func (s *Server) createConnection(r *http.Request, ri *reqInfo) response {
	var req struct {
		Connection *struct {
			Service    flexString `json:"service"`
			ExternalID flexString `json:"externalid"`
			Name       flexString `json:"name"`
			LogoURL    flexString `json:"logoUrl"`
			LinkURL    flexString `json:"linkUrl"`
			ListID     flexString `json:"listId"`
		} `json:"connection"`
	}
	if resp, ok := decodeBody(ri, &req); !ok {
		return resp
	}
	if req.Connection == nil {
		return errs422(apiError{Title: "The connection was not provided.", Detail: `Wrap the body under "connection".`, Code: "field_missing", Source: pointer("connection")})
	}
	c := req.Connection
	var missing []apiError
	for _, f := range []struct {
		name string
		v    flexString
	}{{"service", c.Service}, {"externalid", c.ExternalID}, {"name", c.Name}, {"logoUrl", c.LogoURL}, {"linkUrl", c.LinkURL}} {
		if !f.v.set || strings.TrimSpace(f.v.s) == "" {
			missing = append(missing, apiError{Title: "The connection " + f.name + " was not provided.", Code: "field_missing", Source: pointer(f.name)})
		}
	}
	if len(missing) > 0 {
		return errs422(missing...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ListID.set && c.ListID.s != "" && c.ListID.s != "0" && s.st.list(c.ListID.s) == nil {
		return errs422(apiError{Title: "The related list does not exist.", Code: "related_missing", Source: pointer("listId")})
	}
	now := s.now()
	rec := &connRec{ID: s.st.nextID("connection"), Service: c.Service.s, ExternalID: c.ExternalID.s, Name: c.Name.s,
		LogoURL: c.LogoURL.s, LinkURL: c.LinkURL.s, ListID: c.ListID.s, Created: now, Updated: now}
	if rec.ListID == "" {
		rec.ListID = "0"
	}
	s.st.Connections = append(s.st.Connections, rec)
	s.touch()
	ri.count = 1
	return reply(http.StatusOK, map[string]any{"connection": connJSON(rec)})
}

// deleteConnection also drops the connection's recurring payments: whether AC does is
// UNVERIFIED, and dropping them makes a test notice a client that deletes by mistake.
func (s *Server) deleteConnection(r *http.Request, ri *reqInfo) response {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, c := range s.st.Connections {
		if c.ID != id {
			continue
		}
		s.st.Connections = append(s.st.Connections[:i], s.st.Connections[i+1:]...)
		kept := s.st.RPs[:0]
		for _, rp := range s.st.RPs {
			if strconv.FormatInt(rp.LegacyConnectionID, 10) == id {
				delete(s.st.rpByKey, rpKey(rp.LegacyConnectionID, rp.StoreRecurringPaymentID))
				continue
			}
			kept = append(kept, rp)
		}
		s.st.RPs = kept
		s.touch()
		ri.count = 1
		return reply(http.StatusOK, map[string]any{})
	}
	return notFound("No Result found for Connection with id " + id)
}

// ---- fields ----

var fieldTypes = map[string]bool{
	"text": true, "textarea": true, "date": true, "datetime": true, "dropdown": true, "radio": true,
	"checkbox": true, "listbox": true, "hidden": true, "number": true,
}

func (st *state) relIDs(fieldID string) []string {
	ids := []string{}
	for _, r := range st.FieldRels {
		if r.Field == fieldID {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

func (st *state) fieldJSON(f *fieldRec) map[string]any {
	return map[string]any{
		"title": f.Title, "descript": f.Descript, "type": f.Type, "isrequired": "0", "perstag": f.Perstag,
		"defval": f.Defval, "show_in_list": "0", "rows": "0", "cols": "0", "visible": strconv.Itoa(f.Visible),
		"service": "", "ordernum": strconv.Itoa(f.Ordernum), "cdate": acTime(f.Created), "udate": acTime(f.Updated),
		"options": []any{}, "relations": st.relIDs(f.ID),
		"links": map[string]any{
			"options":   "/api/3/fields/" + f.ID + "/options",
			"relations": "/api/3/fields/" + f.ID + "/relations",
		},
		"id": f.ID,
	}
}

func fieldRelJSON(r *fieldRelRec) map[string]any {
	return map[string]any{"field": r.Field, "relid": r.RelID, "dorder": "0", "cdate": acTime(r.Created), "links": []any{}, "id": r.ID}
}

func (s *Server) listFields(r *http.Request, _ *reqInfo) response {
	q := r.URL.Query()
	tag, byTag := q["filters[perstag]"]
	s.mu.Lock()
	defer s.mu.Unlock()
	var sel []*fieldRec
	for _, f := range s.st.Fields {
		if byTag && !strings.EqualFold(f.Perstag, tag[0]) {
			continue
		}
		sel = append(sel, f)
	}
	limit, offset := page(r)
	fields, rels := []map[string]any{}, []map[string]any{}
	for _, f := range window2(sel, limit, offset) {
		fields = append(fields, s.st.fieldJSON(f))
		for _, rel := range s.st.FieldRels {
			if rel.Field == f.ID {
				rels = append(rels, fieldRelJSON(rel))
			}
		}
	}
	return reply(http.StatusOK, map[string]any{"fieldOptions": []any{}, "fieldRels": rels, "fields": fields, "meta": meta(len(sel))})
}

func (s *Server) getField(r *http.Request, _ *reqInfo) response {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.st.field(id)
	if f == nil {
		return notFound("No Result found for Field with id " + id)
	}
	rels := []map[string]any{}
	for _, rel := range s.st.FieldRels {
		if rel.Field == f.ID {
			rels = append(rels, fieldRelJSON(rel))
		}
	}
	return reply(http.StatusOK, map[string]any{"fieldOptions": []any{}, "fieldRels": rels, "field": s.st.fieldJSON(f)})
}

// deleteField removes a field with its list links and every contact's value of it.
func (s *Server) deleteField(r *http.Request, ri *reqInfo) response {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.st.Fields {
		if f.ID != id {
			continue
		}
		s.st.Fields = append(s.st.Fields[:i], s.st.Fields[i+1:]...)
		kept := s.st.FieldRels[:0]
		for _, rel := range s.st.FieldRels {
			if rel.Field != id {
				kept = append(kept, rel)
			}
		}
		s.st.FieldRels = kept
		for _, c := range s.st.Contacts {
			delete(c.FieldValues, id)
		}
		s.touch()
		ri.count = 1
		return reply(http.StatusOK, map[string]any{})
	}
	return notFound("No Result found for Field with id " + id)
}

var (
	nonTagChar = regexp.MustCompile(`[^A-Z0-9_]+`)
	nonWord    = regexp.MustCompile(`[^A-Z0-9]+`)
)

// createField answers 201 {"field":{...}}: the docs show a list-shaped body, the
// reference expects the singular one (UNVERIFIED). A perstag given by the client is
// upper-cased and stripped to [A-Z0-9_] as the docs' example shows ("Personalized
// Tag" → "PERSONALIZEDTAG"); one derived from the title turns other runs into "_".
func (s *Server) createField(r *http.Request, ri *reqInfo) response {
	var req struct {
		Field *struct {
			Title    flexString `json:"title"`
			Type     flexString `json:"type"`
			Perstag  flexString `json:"perstag"`
			Descript flexString `json:"descript"`
			Defval   flexString `json:"defval"`
			Visible  flexString `json:"visible"`
			Ordernum flexString `json:"ordernum"`
		} `json:"field"`
	}
	if resp, ok := decodeBody(ri, &req); !ok {
		return resp
	}
	if req.Field == nil {
		return errs422(apiError{Title: "The field title was not provided.", Detail: `Wrap the body under "field".`, Code: "field_missing"})
	}
	f := req.Field
	title := strings.TrimSpace(f.Title.s)
	if title == "" {
		return errs422(apiError{Title: "The field title was not provided.", Code: "field_missing"})
	}
	typ := strings.TrimSpace(f.Type.s)
	if typ == "" {
		return errs422(apiError{Title: "The field type was not provided.", Code: "field_missing"})
	}
	if !fieldTypes[typ] {
		return errs422(apiError{Title: "The field type is not valid.", Detail: fmt.Sprintf("Unknown field type '%s'", typ), Code: "field_invalid"})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.st.Fields {
		if strings.EqualFold(x.Title, title) {
			return errs422(apiError{Title: "There is already a field with this title",
				Detail: fmt.Sprintf("There is already a field named '%s' -- choose another name", title), Code: "duplicate"})
		}
	}
	tagTaken := func(tag string) bool {
		for _, x := range s.st.Fields {
			if strings.EqualFold(x.Perstag, tag) {
				return true
			}
		}
		return false
	}
	var tag string
	if f.Perstag.set && strings.TrimSpace(f.Perstag.s) != "" {
		tag = nonTagChar.ReplaceAllString(strings.ToUpper(f.Perstag.s), "")
		if tag == "" || tagTaken(tag) {
			return errs422(apiError{Title: "There is already a field with this personalization tag",
				Detail: fmt.Sprintf("There is already a personalization tag named '%s' -- choose another name", f.Perstag.s), Code: "field_invalid"})
		}
	} else {
		base := strings.Trim(nonWord.ReplaceAllString(strings.ToUpper(title), "_"), "_")
		if base == "" {
			base = "FIELD"
		}
		tag = base
		for n := 2; tagTaken(tag); n++ {
			tag = base + "_" + strconv.Itoa(n)
		}
	}
	now := s.now()
	rec := &fieldRec{ID: s.st.nextID("field"), Title: title, Type: typ, Perstag: tag, Descript: f.Descript.s,
		Defval: f.Defval.s, Visible: 1, Ordernum: len(s.st.Fields) + 1, Created: now, Updated: now}
	if v, err := strconv.Atoi(f.Visible.s); err == nil {
		rec.Visible = v
	}
	if v, err := strconv.Atoi(f.Ordernum.s); err == nil {
		rec.Ordernum = v
	}
	s.st.Fields = append(s.st.Fields, rec)
	s.touch()
	ri.count = 1
	return reply(http.StatusCreated, map[string]any{"field": s.st.fieldJSON(rec)})
}

// createFieldRel answers 201 with relid and field as numbers, like the sample. An
// unknown field or list is 422 related_missing (the status is UNVERIFIED). Attaching a
// field to a list it is already attached to returns the existing relation rather than
// a second one.
func (s *Server) createFieldRel(r *http.Request, ri *reqInfo) response {
	var req struct {
		FieldRel *struct {
			Field flexString `json:"field"`
			RelID flexString `json:"relid"`
		} `json:"fieldRel"`
	}
	if resp, ok := decodeBody(ri, &req); !ok {
		return resp
	}
	if req.FieldRel == nil || !req.FieldRel.Field.set {
		return errs422(apiError{Title: "The field was not provided.", Code: "field_missing", Source: pointer("field")})
	}
	if !req.FieldRel.RelID.set {
		return errs422(apiError{Title: "The relid was not provided.", Code: "field_missing", Source: pointer("relid")})
	}
	fieldID, relID := req.FieldRel.Field.s, req.FieldRel.RelID.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.field(fieldID) == nil {
		return errs422(apiError{Title: "The related field does not exist.", Detail: "No field with id " + fieldID, Code: "related_missing", Source: pointer("field")})
	}
	if relID != "0" && s.st.list(relID) == nil {
		return errs422(apiError{Title: "The related list does not exist.", Detail: "No list with id " + relID, Code: "related_missing", Source: pointer("relid")})
	}
	var rec *fieldRelRec
	for _, x := range s.st.FieldRels {
		if x.Field == fieldID && x.RelID == relID {
			rec = x
		}
	}
	if rec == nil {
		rec = &fieldRelRec{ID: s.st.nextID("fieldRel"), Field: fieldID, RelID: relID, Created: s.now()}
		s.st.FieldRels = append(s.st.FieldRels, rec)
		s.touch()
	}
	ri.count = 1
	fid, _ := strconv.Atoi(fieldID)
	rid, _ := strconv.Atoi(relID)
	return reply(http.StatusCreated, map[string]any{"fieldRel": map[string]any{
		"relid": rid, "field": fid, "cdate": acTime(rec.Created), "links": []any{}, "id": rec.ID,
	}})
}
