package acsandbox

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// emailRe is stricter than RFC 5322 where AC's own samples are: an apostrophe in the
// local part and a domain without a dot both appear as failures in
// bulk-import-info.response-200.json.
var emailRe = regexp.MustCompile(`^[A-Za-z0-9!#$%&*+/=?^_{|}~-]+(\.[A-Za-z0-9!#$%&*+/=?^_{|}~-]+)*@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$`)

func validEmail(e string) bool { return len(e) <= 254 && emailRe.MatchString(strings.TrimSpace(e)) }

func (s *Server) failEmail(e string) bool { return (*s.failEmails.Load())[emailKey(e)] }

var (
	errEmailMissing   = apiError{Title: "Email address is required", Detail: "", Code: "field_missing", Source: pointer("email")}
	errEmailInvalid   = apiError{Title: "Email address is not valid", Detail: "", Code: "email_invalid", Source: pointer("email")}
	errEmailDuplicate = apiError{Title: "Email address already exists in the system", Detail: "", Code: "duplicate", Source: pointer("email")}
)

func errEmailFailed(email string) apiError {
	return apiError{Title: "The contact could not be saved", Detail: email + " is in the sandbox's fail-emails set", Code: "invalid", Source: pointer("email")}
}

// contactIn is the body of contact/sync, POST /contacts and PUT /contacts/{id}. A field
// present in the body is written (even when empty); an absent one is left alone.
type contactIn struct {
	Email       flexString `json:"email"`
	FirstName   flexString `json:"firstName"`
	LastName    flexString `json:"lastName"`
	Phone       flexString `json:"phone"`
	OrgName     flexString `json:"orgname"`
	FieldValues []struct {
		Field flexString `json:"field"`
		Value flexString `json:"value"`
	} `json:"fieldValues"`
}

// checkEmail validates an email for a REST write; ok=false carries the 422.
func (s *Server) checkEmail(e flexString) (response, bool) {
	switch {
	case !e.set || strings.TrimSpace(e.s) == "":
		return errs422(errEmailMissing), false
	case !validEmail(e.s):
		return errs422(errEmailInvalid), false
	case s.failEmail(e.s):
		return errs422(errEmailFailed(e.s)), false
	}
	return response{}, true
}

// checkFieldValue enforces what the reference documents for values: the field must
// exist, and a date field takes YYYY-MM-DD (or empty to clear). Call with mu held.
func (st *state) checkFieldValue(fieldID, value string) (msg string, ok bool) {
	f := st.field(fieldID)
	if f == nil {
		return fmt.Sprintf("No field with id %s", fieldID), false
	}
	if f.Type == "date" && value != "" {
		if _, err := time.Parse("2006-01-02", value); err != nil {
			return fmt.Sprintf("Field '%s' (id %s) is a date field: value '%s' is not in YYYY-MM-DD format", f.Title, f.ID, value), false
		}
	}
	return "", true
}

func (st *state) checkFieldValues(in *contactIn) (response, bool) {
	for i, fv := range in.FieldValues {
		if !fv.Field.set {
			return errs422(apiError{Title: "The field was not provided.", Code: "field_missing",
				Source: pointer(fmt.Sprintf("fieldValues/%d/field", i))}), false
		}
		if msg, ok := st.checkFieldValue(fv.Field.s, fv.Value.s); !ok {
			return errs422(apiError{Title: "Field value is not valid", Detail: msg, Code: "field_invalid",
				Source: pointer(fmt.Sprintf("fieldValues/%d", i))}), false
		}
	}
	return response{}, true
}

func (st *state) applyContact(c *contactRec, in *contactIn, now time.Time) {
	set := func(dst *string, v flexString) {
		if v.set {
			*dst = v.s
		}
	}
	set(&c.FirstName, in.FirstName)
	set(&c.LastName, in.LastName)
	set(&c.Phone, in.Phone)
	set(&c.OrgName, in.OrgName)
	for _, fv := range in.FieldValues {
		st.setFieldValue(c, fv.Field.s, fv.Value.s, now)
	}
	c.Updated = now
}

func emailHash(e string) string {
	h := md5.Sum([]byte(emailKey(e)))
	return hex.EncodeToString(h[:])
}

func contactJSON(c *contactRec) map[string]any {
	base := "/api/3/contacts/" + c.ID + "/"
	links := map[string]any{}
	for _, l := range []string{"bounceLogs", "contactAutomations", "contactData", "contactGoals", "contactLists",
		"contactLogs", "contactTags", "contactDeals", "deals", "fieldValues", "geoIps", "notes", "organization",
		"plusAppend", "trackingLogs", "scoreValues", "accountContacts", "automationEntryCounts"} {
		links[l] = base + l
	}
	fvIDs := []string{}
	for _, fid := range sortedKeys(c.FieldValues) {
		fvIDs = append(fvIDs, c.FieldValues[fid].ID)
	}
	return map[string]any{
		"email": c.Email, "phone": c.Phone, "firstName": c.FirstName, "lastName": c.LastName,
		"orgid": "0", "orgname": c.OrgName, "segmentio_id": "", "bounced_hard": "0", "bounced_soft": "0",
		"bounced_date": "0000-00-00", "ip": "0", "ua": "", "hash": emailHash(c.Email), "email_local": "",
		"email_domain": "", "sentcnt": "0", "rating_tstamp": "0000-00-00", "gravatar": "0", "deleted": "0",
		"anonymized": "0", "email_empty": false, "cdate": acTime(c.Created), "udate": acTime(c.Updated),
		"deleted_at": "0000-00-00 00:00:00", "links": links, "fieldValues": fvIDs, "id": c.ID, "organization": "",
	}
}

func fieldValuesJSON(c *contactRec) []map[string]any {
	out := []map[string]any{}
	for _, fid := range sortedKeys(c.FieldValues) {
		fv := c.FieldValues[fid]
		out = append(out, map[string]any{
			"contact": c.ID, "field": fid, "value": fv.Value, "cdate": acTime(fv.Created), "udate": acTime(fv.Updated),
			"created_by": nil, "updated_by": nil,
			"links": map[string]any{"owner": "/api/3/fieldValues/" + fv.ID + "/owner", "field": "/api/3/fieldValues/" + fv.ID + "/field"},
			"id":    fv.ID, "owner": c.ID,
		})
	}
	return out
}

// contactListJSON: status is a number where the client just sent one (the POST
// /contactLists sample) and a string when read back, as AC's database strings are;
// the reference tells clients to decode both.
func contactListJSON(c *contactRec, listID string, cl *contactListRec, numericStatus bool) map[string]any {
	var status any = strconv.Itoa(cl.Status)
	if numericStatus {
		status = cl.Status
	}
	sourceID := cl.SourceID
	if sourceID == "" {
		sourceID = "0"
	}
	base := "/api/3/contactLists/" + cl.ID + "/"
	return map[string]any{
		"contact": c.ID, "list": listID, "form": nil, "seriesid": "0", "sdate": acTime(cl.Created),
		"udate": acTime(cl.Updated), "status": status, "responder": "1", "sync": "0", "unsubreason": "",
		"campaign": nil, "message": nil, "first_name": c.FirstName, "last_name": c.LastName, "ip4Sub": "0",
		"sourceid": sourceID, "autosyncLog": nil, "ip4_last": "0", "ip4Unsub": "0", "unsubscribeAutomation": nil,
		"links": map[string]any{"automation": base + "automation", "list": base + "list", "contact": base + "contact"},
		"id":    cl.ID, "automation": nil,
	}
}

func contactListsJSON(c *contactRec) []map[string]any {
	out := []map[string]any{}
	for _, lid := range sortedKeys(c.Lists) {
		out = append(out, contactListJSON(c, lid, c.Lists[lid], false))
	}
	return out
}

// syncContact upserts by email (matched ignoring case): 201 when it created the
// contact, 200 when it updated one.
func (s *Server) syncContact(r *http.Request, ri *reqInfo) response {
	return s.writeContact(ri, true)
}

// createContact refuses an email that exists with the documented 422 duplicate.
func (s *Server) createContact(r *http.Request, ri *reqInfo) response {
	return s.writeContact(ri, false)
}

func (s *Server) writeContact(ri *reqInfo, upsert bool) response {
	var req struct {
		Contact *contactIn `json:"contact"`
	}
	if resp, ok := decodeBody(ri, &req); !ok {
		return resp
	}
	if req.Contact == nil {
		e := errEmailMissing
		e.Detail = `Wrap the body under "contact".`
		return errs422(e)
	}
	in := req.Contact
	if resp, ok := s.checkEmail(in.Email); !ok {
		return resp
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if resp, ok := s.st.checkFieldValues(in); !ok {
		return resp
	}
	now := s.now()
	status := http.StatusOK
	c := s.st.contactByEmail[emailKey(in.Email.s)]
	if c != nil && !upsert {
		return errs422(errEmailDuplicate)
	}
	if c == nil {
		c = s.st.newContact(in.Email.s, now)
		status = http.StatusCreated
	}
	s.st.applyContact(c, in, now)
	s.touch()
	ri.wrote(emailKey(c.Email))
	return reply(status, map[string]any{"fieldValues": fieldValuesJSON(c), "contact": contactJSON(c)})
}

// updateContact changes a contact by id; a new email moves the contact (it never
// creates a second one) unless another contact already has it.
func (s *Server) updateContact(r *http.Request, ri *reqInfo) response {
	id := r.PathValue("id")
	var req struct {
		Contact *contactIn `json:"contact"`
	}
	if resp, ok := decodeBody(ri, &req); !ok {
		return resp
	}
	if req.Contact == nil {
		return errs422(apiError{Title: "The contact was not provided.", Detail: `Wrap the body under "contact".`, Code: "field_missing"})
	}
	in := req.Contact
	if in.Email.set {
		if resp, ok := s.checkEmail(in.Email); !ok {
			return resp
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.st.contactByID[id]
	if c == nil {
		return notFound("No Result found for Subscriber with id " + id)
	}
	if s.failEmail(c.Email) {
		return errs422(errEmailFailed(c.Email))
	}
	if resp, ok := s.st.checkFieldValues(in); !ok {
		return resp
	}
	if in.Email.set {
		if other := s.st.contactByEmail[emailKey(in.Email.s)]; other != nil && other != c {
			return errs422(errEmailDuplicate)
		}
	}
	now := s.now()
	if in.Email.set && in.Email.s != c.Email {
		s.st.setEmail(c, in.Email.s)
	}
	s.st.applyContact(c, in, now)
	s.touch()
	ri.wrote(emailKey(c.Email))
	return reply(http.StatusOK, map[string]any{"fieldValues": fieldValuesJSON(c), "contact": contactJSON(c)})
}

func (s *Server) deleteContact(r *http.Request, ri *reqInfo) response {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.st.contactByID[id]
	if c == nil {
		return notFound("No result found for contact with id " + id)
	}
	if s.failEmail(c.Email) {
		return errs422(errEmailFailed(c.Email))
	}
	s.st.deleteContact(c)
	s.touch()
	ri.wrote(emailKey(c.Email))
	return reply(http.StatusOK, map[string]any{})
}

func (s *Server) getContact(r *http.Request, _ *reqInfo) response {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.st.contactByID[id]
	if c == nil {
		return notFound("No Result found for Subscriber with id " + id)
	}
	return reply(http.StatusOK, map[string]any{
		"contactAutomations": []any{}, "contactData": []any{}, "contactGoals": []any{},
		"contactLists": contactListsJSON(c), "deals": []any{}, "fieldValues": fieldValuesJSON(c),
		"geoIps": []any{}, "accountContacts": []any{}, "contact": contactJSON(c),
	})
}

func (s *Server) getContactFieldValues(r *http.Request, _ *reqInfo) response {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.st.contactByID[id]
	if c == nil {
		return notFound("No Result found for Subscriber with id " + id)
	}
	fvs := fieldValuesJSON(c)
	return reply(http.StatusOK, map[string]any{"fieldValues": fvs, "meta": meta(len(fvs))})
}

func (s *Server) getContactLists(r *http.Request, _ *reqInfo) response {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.st.contactByID[id]
	if c == nil {
		return notFound("No Result found for Subscriber with id " + id)
	}
	cls := contactListsJSON(c)
	return reply(http.StatusOK, map[string]any{"contactLists": cls, "meta": meta(len(cls))})
}

// listContacts supports the filters a sync needs: email (exact, ignoring case),
// email_like, listid, id_greater, ids, filters[updated_after], orders[id], limit/offset.
func (s *Server) listContacts(r *http.Request, _ *reqInfo) response {
	q := r.URL.Query()
	email, byEmail := q["email"]
	like := strings.ToLower(q.Get("email_like"))
	listID := q.Get("listid")
	idGreater, _ := strconv.ParseInt(q.Get("id_greater"), 10, 64)
	ids := map[string]bool{}
	for _, v := range append(q["ids"], q["ids[]"]...) {
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids[id] = true
			}
		}
	}
	var updatedAfter time.Time
	if v := q.Get("filters[updated_after]"); v != "" {
		for _, layout := range []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02"} {
			if t, err := time.Parse(layout, v); err == nil {
				updatedAfter = t
				break
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var sel []*contactRec
	if byEmail {
		if c := s.st.contactByEmail[emailKey(email[0])]; c != nil {
			sel = append(sel, c)
		}
	} else {
		sel = s.st.Contacts
	}
	var out []*contactRec
	for _, c := range sel {
		id, _ := strconv.ParseInt(c.ID, 10, 64)
		switch {
		case like != "" && !strings.Contains(strings.ToLower(c.Email), like),
			listID != "" && c.Lists[listID] == nil,
			idGreater > 0 && id <= idGreater,
			len(ids) > 0 && !ids[c.ID],
			!updatedAfter.IsZero() && !c.Updated.After(updatedAfter):
			continue
		}
		out = append(out, c)
	}
	if strings.EqualFold(q.Get("orders[id]"), "DESC") {
		sort.SliceStable(out, func(i, j int) bool { return idLess(out[j].ID, out[i].ID) })
	}
	limit, offset := page(r)
	contacts := []map[string]any{}
	for _, c := range window2(out, limit, offset) {
		contacts = append(contacts, contactJSON(c))
	}
	m := meta(len(out))
	m["page_input"] = map[string]any{"limit": limit, "offset": offset}
	return reply(http.StatusOK, map[string]any{"scoreValues": []any{}, "contacts": contacts, "meta": m})
}

// setContactList sets a contact's status on a list (0 unconfirmed, 1 active, 2
// unsubscribed, 3 bounced). An unknown contact or
// list is 422 related_missing (the status is UNVERIFIED); repeating a status is fine.
// It answers 200 like the sample, status as the number the client sent.
func (s *Server) setContactList(r *http.Request, ri *reqInfo) response {
	var req struct {
		ContactList *struct {
			List     flexString `json:"list"`
			Contact  flexString `json:"contact"`
			Status   flexString `json:"status"`
			SourceID flexString `json:"sourceid"`
		} `json:"contactList"`
	}
	if resp, ok := decodeBody(ri, &req); !ok {
		return resp
	}
	cl := req.ContactList
	if cl == nil {
		return errs422(apiError{Title: "The contactList was not provided.", Detail: `Wrap the body under "contactList".`, Code: "field_missing"})
	}
	for _, f := range []struct {
		name string
		v    flexString
	}{{"list", cl.List}, {"contact", cl.Contact}, {"status", cl.Status}} {
		if !f.v.set || f.v.s == "" {
			return errs422(apiError{Title: "The " + f.name + " was not provided.", Code: "field_missing", Source: pointer(f.name)})
		}
	}
	// AC's list statuses: 0 unconfirmed, 1 active, 2 unsubscribed, 3 bounced.
	status, err := strconv.Atoi(cl.Status.s)
	if err != nil || status < 0 || status > 3 {
		return errs422(apiError{Title: "The status is not valid.", Detail: "status must be 0 (unconfirmed), 1 (active), 2 (unsubscribed) or 3 (bounced)", Code: "field_invalid", Source: pointer("status")})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.st.contactByID[cl.Contact.s]
	if c == nil {
		return errs422(apiError{Title: "The related contact does not exist.", Detail: "No contact with id " + cl.Contact.s, Code: "related_missing", Source: pointer("contact")})
	}
	if s.st.list(cl.List.s) == nil {
		return errs422(apiError{Title: "The related list does not exist.", Detail: "No list with id " + cl.List.s, Code: "related_missing", Source: pointer("list")})
	}
	if s.failEmail(c.Email) {
		return errs422(errEmailFailed(c.Email))
	}
	rec := s.st.setListStatus(c, cl.List.s, status, cl.SourceID.s, s.now())
	s.touch()
	ri.wrote(emailKey(c.Email))
	return reply(http.StatusOK, map[string]any{
		"contacts":    []any{contactJSON(c)},
		"contactList": contactListJSON(c, cl.List.s, rec, true),
	})
}
