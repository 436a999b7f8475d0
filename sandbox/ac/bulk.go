package acsandbox

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Bulk importer limits, from AC's help centre article on the Bulk Contact Importer.
const (
	bulkMaxContacts = 250
	bulkMaxBytes    = 400000
	bulkInvalidMsg  = "JSON payload did not pass validation. Please fix failure Reasons and retry. The import was not queued for processing."
)

func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("acsandbox: crypto/rand: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

type bulkContactIn struct {
	Email     flexString `json:"email"`
	FirstName flexString `json:"first_name"`
	LastName  flexString `json:"last_name"`
	Phone     flexString `json:"phone"`
	AcctName  flexString `json:"customer_acct_name"`
	Fields    []struct {
		ID    flexString `json:"id"`
		Value flexString `json:"value"`
	} `json:"fields"`
	Subscribe []struct {
		ListID flexString `json:"listid"`
	} `json:"subscribe"`
	Unsubscribe []struct {
		ListID flexString `json:"listid"`
	} `json:"unsubscribe"`
	Tags               json.RawMessage `json:"tags"`
	ExcludeAutomations json.RawMessage `json:"exclude_automations"`
}

func bulk400(reasons ...any) response {
	return reply(http.StatusBadRequest, map[string]any{"success": 0, "message": bulkInvalidMsg, "failureReasons": reasons})
}

type failureReason struct {
	Contact int    `json:"contact"`
	Reason  string `json:"failureReason"`
}

func isInt(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// bulkImport validates the whole request up front (any failure rejects it with 400)
// and queues it; per-contact problems found while applying (fail-emails, unknown
// fields or lists, bad date values) end up in import/info's failure list instead.
func (s *Server) bulkImport(r *http.Request, ri *reqInfo) response {
	if len(ri.body) > bulkMaxBytes {
		return bulk400(fmt.Sprintf("The payload is %d bytes; at most %d bytes may be sent per request.", len(ri.body), bulkMaxBytes))
	}
	var req struct {
		Contacts []json.RawMessage `json:"contacts"`
		Callback json.RawMessage   `json:"callback"`
	}
	if err := json.Unmarshal(ri.body, &req); err != nil {
		return bulk400("The request body is not valid JSON: " + err.Error())
	}

	s.mu.Lock()
	lim := s.bulkMulti
	msg := "Up to 100 imports may be requested per minute.Please batch contacts into larger requests, or retry this request in a minute."
	if len(req.Contacts) == 1 {
		lim = s.bulkOne
		msg = "Up to 20 single-contact imports may be requested per minute. Please batch contacts into larger requests, or retry this request in a minute."
	}
	var wait time.Duration
	ok := true
	if lim != nil {
		ok, wait = lim.allow(s.now())
	}
	s.mu.Unlock()
	if !ok {
		// As AC answers it (reference sample bulk-import.error-400.json, "Other
		// Error"): HTTP 400, no Retry-After; the message says to retry in a minute.
		_ = wait
		return reply(http.StatusBadRequest, map[string]any{"success": 0, "message": "Rate limit exceeded.", "failureReasons": []string{msg}})
	}

	if len(req.Contacts) == 0 {
		return bulk400("'contacts' is a required field and must hold at least one contact.")
	}
	if len(req.Contacts) > bulkMaxContacts {
		return bulk400(fmt.Sprintf("Up to %d contacts may be imported per request; this one has %d.", bulkMaxContacts, len(req.Contacts)))
	}
	var reasons []any
	pending := make([]importContact, 0, len(req.Contacts))
	for i, raw := range req.Contacts {
		var in bulkContactIn
		if err := json.Unmarshal(raw, &in); err != nil {
			reasons = append(reasons, failureReason{i, "Contact is not a valid object: " + err.Error()})
			continue
		}
		if !in.Email.set || !validEmail(in.Email.s) {
			reasons = append(reasons, failureReason{i, "Field 'email' incorrect format"})
			continue
		}
		ic := importContact{Email: strings.TrimSpace(in.Email.s), FirstName: in.FirstName.s, LastName: in.LastName.s,
			Phone: in.Phone.s, OrgName: in.AcctName.s}
		bad := false
		for j, f := range in.Fields {
			if !f.ID.set || !isInt(f.ID.s) {
				reasons = append(reasons, failureReason{i, fmt.Sprintf("Field 'fields[%d].id' must be a numeric field id", j)})
				bad = true
				continue
			}
			if ic.Fields == nil {
				ic.Fields = map[string]string{}
			}
			if _, dup := ic.Fields[f.ID.s]; !dup {
				ic.FieldOrder = append(ic.FieldOrder, f.ID.s)
			}
			ic.Fields[f.ID.s] = f.Value.s
		}
		for j, l := range in.Subscribe {
			if !l.ListID.set || !isInt(l.ListID.s) {
				reasons = append(reasons, failureReason{i, fmt.Sprintf("Field 'subscribe[%d].listid' must be a numeric list id", j)})
				bad = true
				continue
			}
			ic.Subscribe = append(ic.Subscribe, l.ListID.s)
		}
		for j, l := range in.Unsubscribe {
			if !l.ListID.set || !isInt(l.ListID.s) {
				reasons = append(reasons, failureReason{i, fmt.Sprintf("Field 'unsubscribe[%d].listid' must be a numeric list id", j)})
				bad = true
				continue
			}
			ic.Unsubscribe = append(ic.Unsubscribe, l.ListID.s)
		}
		if !bad {
			pending = append(pending, ic)
		}
	}
	if len(reasons) > 0 {
		return bulk400(reasons...)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	seq, _ := strconv.ParseInt(s.st.nextID("job"), 10, 64)
	im := &importRec{ID: newUUID(), Seq: seq, Status: "waiting", Queued: len(pending), Success: []string{}, Failure: []string{},
		Created: now, Pending: pending, FailAsync: s.takeImportFailure()}
	s.st.Imports = append(s.st.Imports, im)
	s.st.importByID[im.ID] = im
	s.armLocked()
	s.touch()
	keys := make([]string, len(pending))
	for i, ic := range pending {
		keys[i] = emailKey(ic.Email)
	}
	ri.wrote(keys...)
	return reply(http.StatusOK, map[string]any{"success": 1, "queued_contacts": len(pending), "batchId": im.ID, "message": "Contact import queued"})
}

// importInfo reports a batch: "waiting" until it is applied, then "completed" with the
// ids of the contacts it created and the emails that failed.
func (s *Server) importInfo(r *http.Request, _ *reqInfo) response {
	id := r.URL.Query().Get("batchId")
	if id == "" {
		return reply(http.StatusBadRequest, map[string]any{"success": 0, "message": "'batchId' is a required field."})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	im := s.st.importByID[id]
	if im == nil {
		// What AC answers for a batchId it does not know is UNVERIFIED.
		return reply(http.StatusNotFound, map[string]any{"success": 0, "message": "No import batch found with batchId " + id})
	}
	// "Within about 1 s of the import, status may be boolean false" (AC's
	// bulk-import-status reference): the sandbox answers false for the first half
	// of its apply delay, up to a second.
	var status any = im.Status
	if im.Status == "waiting" && s.now().Before(im.Created.Add(min(s.opts.ApplyDelay/2, time.Second))) {
		status = false
	}
	return reply(http.StatusOK, map[string]any{"status": status, "success": append([]string{}, im.Success...), "failure": append([]string{}, im.Failure...)})
}

func (s *Server) bulkImportList(*http.Request, *reqInfo) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	type agg struct{ batches, contacts int }
	out, done := map[string]*agg{}, map[string]*agg{}
	for _, im := range s.st.Imports {
		m := done
		if im.Status != "completed" {
			m = out
		}
		day := im.Created.UTC().Format("2006-01-02")
		if m[day] == nil {
			m[day] = &agg{}
		}
		m[day].batches++
		m[day].contacts += im.Queued
	}
	rows := func(m map[string]*agg) []map[string]any {
		days := make([]string, 0, len(m))
		for d := range m {
			days = append(days, d)
		}
		sort.Strings(days)
		res := []map[string]any{}
		for _, d := range days {
			res = append(res, map[string]any{"forDate": d, "batches": strconv.Itoa(m[d].batches), "contacts": strconv.Itoa(m[d].contacts)})
		}
		return res
	}
	return reply(http.StatusOK, map[string]any{"outstanding": rows(out), "recentlyCompleted": rows(done)})
}

// applyImportLocked applies one queued import, contact by contact.
func (s *Server) applyImportLocked(im *importRec, now time.Time) {
	if im.FailAsync {
		im.Pending, im.Status, im.Completed = nil, "failed", &now
		return
	}
	st := s.st
	for _, ic := range im.Pending {
		if s.failEmail(ic.Email) || !s.importContactOK(ic) {
			im.Failure = append(im.Failure, ic.Email)
			continue
		}
		c := st.contactByEmail[emailKey(ic.Email)]
		if c == nil {
			c = st.newContact(ic.Email, now)
			im.Success = append(im.Success, c.ID)
		}
		// Blank cells do not overwrite what AC already has, as in a CSV import.
		for dst, v := range map[*string]string{&c.FirstName: ic.FirstName, &c.LastName: ic.LastName, &c.Phone: ic.Phone, &c.OrgName: ic.OrgName} {
			if v != "" {
				*dst = v
			}
		}
		for _, fid := range ic.FieldOrder {
			st.setFieldValue(c, fid, ic.Fields[fid], now)
		}
		for _, lid := range ic.Subscribe {
			// The importer never re-subscribes a contact who unsubscribed.
			if cl := c.Lists[lid]; cl != nil && cl.Status == 2 {
				continue
			}
			st.setListStatus(c, lid, 1, "", now)
		}
		for _, lid := range ic.Unsubscribe {
			st.setListStatus(c, lid, 2, "", now)
		}
		c.Updated = now
	}
	im.Pending = nil
	im.Status = "completed"
	im.Completed = &now
}

func (s *Server) importContactOK(ic importContact) bool {
	for fid, v := range ic.Fields {
		if _, ok := s.st.checkFieldValue(fid, v); !ok {
			return false
		}
	}
	for _, lid := range append(append([]string(nil), ic.Subscribe...), ic.Unsubscribe...) {
		if s.st.list(lid) == nil {
			return false
		}
	}
	return true
}

// ---- async work: bulk imports and recurring payment batches, applied in order ----

type job struct {
	seq     int64
	created time.Time
	im      *importRec
	rp      *rpBatchRec
}

func (s *Server) pendingJobsLocked() []job {
	var jobs []job
	for _, im := range s.st.Imports {
		if im.Status == "waiting" {
			jobs = append(jobs, job{seq: im.Seq, created: im.Created, im: im})
		}
	}
	for _, b := range s.st.RPBatches {
		if b.Status == "waiting" {
			jobs = append(jobs, job{seq: b.Seq, created: b.Created, rp: b})
		}
	}
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].seq < jobs[j].seq })
	return jobs
}

// applyJobsLocked applies due jobs (all of them when all is set) in arrival order,
// stopping at the first that is not due so a later batch never overtakes an earlier.
func (s *Server) applyJobsLocked(all bool) {
	now := s.now()
	for _, j := range s.pendingJobsLocked() {
		if !all && (s.opts.ApplyDelay < 0 || now.Before(j.created.Add(s.opts.ApplyDelay))) {
			break
		}
		if j.im != nil {
			s.applyImportLocked(j.im, now)
		} else {
			s.applyRPBatchLocked(j.rp, now)
		}
		s.touch()
	}
}

// armLocked makes sure the timer is set for the earliest pending job. One timer is
// enough: jobs are due in arrival order.
func (s *Server) armLocked() {
	if s.opts.ApplyDelay < 0 || s.closed || !s.timerDue.IsZero() {
		return
	}
	jobs := s.pendingJobsLocked()
	if len(jobs) == 0 {
		return
	}
	due := jobs[0].created.Add(s.opts.ApplyDelay)
	s.timerDue = due
	d := max(0, due.Sub(s.now()))
	if s.timer == nil {
		s.timer = time.AfterFunc(d, s.applyDue)
	} else {
		s.timer.Reset(d)
	}
}

func (s *Server) applyDue() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.timerDue = time.Time{}
	s.applyJobsLocked(false)
	s.armLocked()
	s.mu.Unlock()
	if err := s.save(); err != nil {
		s.opts.Logf("acsandbox: %v", err)
	}
}
