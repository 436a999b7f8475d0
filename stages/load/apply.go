package load

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/load/ac"
)

// Error codes of load/errors.csv.
const (
	CodeRejected      = "ac_rejected"        // AC refused the record; its message is in the row
	CodeImportFailed  = "ac_import_failed"   // the bulk import reported the email as failed
	CodeContactFailed = "contact_not_synced" // a recurring payment held back because its contact failed
)

type applier struct {
	c      *ac.Client
	cfg    Config
	setup  *Setup
	connID int64
	j      *journal
	runID  string
	errors []schemas.ValidationError
	// contact keys that failed this run: their recurring payments wait for them.
	failedContacts  map[string]bool
	contactRequests int64
}

func (a *applier) fail(entity, key, customerID, email, code, msg string) {
	a.errors = append(a.errors, schemas.ValidationError{
		RunID: a.runID, Stage: "load", Entity: entity, RecordID: key, CustomerID: customerID,
		Email: email, Code: code, Message: msg,
	})
	if entity == EntityContact {
		if a.failedContacts == nil {
			a.failedContacts = map[string]bool{}
		}
		a.failedContacts[key] = true
	}
}

// outcome of one batch: keys acknowledged, keys failed with AC's message.
type outcome struct {
	acked  []string
	failed []failedEntry
}

// run applies one batch unless the journal already has it, and journals the result.
func (a *applier) run(ctx context.Context, id, entity, op string, emailOf func(string) (string, string), fn func(context.Context) (outcome, error)) error {
	if a.j.done[id] {
		return nil
	}
	out, err := fn(ctx)
	if err != nil {
		return fmt.Errorf("batch %s: %w", id, err)
	}
	for _, f := range out.failed {
		cust, email := emailOf(f.Key)
		code := CodeRejected
		if strings.HasPrefix(f.Message, "bulk import:") {
			code = CodeImportFailed
		}
		a.fail(entity, f.Key, cust, email, code, f.Message)
	}
	return a.j.append(journalEntry{Batch: id, Entity: entity, Op: op, Acked: out.acked, Failed: out.failed})
}

// split sends recs with send; when AC rejects the request as a whole it halves the
// batch, down to single records, so one bad record cannot block the others. A
// single rejected record becomes a failure with AC's own message.
func split[T any](ctx context.Context, recs []T, key func(*T) string, send func(context.Context, []T) (outcome, error)) (outcome, error) {
	out, err := send(ctx, recs)
	if err == nil {
		return out, nil
	}
	if !ac.Rejected(err) {
		return outcome{}, err
	}
	if len(recs) == 1 {
		return outcome{failed: []failedEntry{{Key: key(&recs[0]), Message: err.Error()}}}, nil
	}
	mid := len(recs) / 2
	left, err := split(ctx, recs[:mid], key, send)
	if err != nil {
		return outcome{}, err
	}
	right, err := split(ctx, recs[mid:], key, send)
	if err != nil {
		return outcome{}, err
	}
	return outcome{acked: append(left.acked, right.acked...), failed: append(left.failed, right.failed...)}, nil
}

type contactChange = Change[schemas.Contact]

func (a *applier) contacts(ctx context.Context, d *Diff[schemas.Contact]) error {
	emailOf := func(k string) (string, string) {
		for _, ch := range d.Changes {
			if ch.Key == k {
				return ch.New.CustomerID, ch.New.Email
			}
		}
		return k, ""
	}
	var upserts, emailChanges, deletes []contactChange
	for _, ch := range d.Changes {
		switch {
		case ch.Op == OpDelete:
			deletes = append(deletes, ch)
		case ch.Op == OpUpdate && ch.Old != nil && !strings.EqualFold(ch.Old.Email, ch.New.Email):
			emailChanges = append(emailChanges, ch)
		default:
			upserts = append(upserts, ch)
		}
	}
	before := a.c.Stats().Requests
	defer func() { a.contactRequests += a.c.Stats().Requests - before }()

	// Creates and updates: bulk import batches packed by count and bytes.
	for i, batch := range a.importBatches(upserts) {
		id := fmt.Sprintf("contacts-%04d", i+1)
		err := a.run(ctx, id, EntityContact, "upsert", emailOf, func(ctx context.Context) (outcome, error) {
			if len(batch) < a.cfg.BulkImportMin {
				return a.syncEach(ctx, batch)
			}
			return split(ctx, batch, func(c *contactChange) string { return c.Key }, a.bulkImport)
		})
		if err != nil {
			return err
		}
	}
	// Email changes: update the contact found by its old email, by id, so AC does
	// not end up with a second contact under the new email.
	for i, ch := range emailChanges {
		id := fmt.Sprintf("email-change-%04d", i+1)
		err := a.run(ctx, id, EntityContact, "email_change", emailOf, func(ctx context.Context) (outcome, error) {
			return a.changeEmail(ctx, ch)
		})
		if err != nil {
			return err
		}
	}
	for i, ch := range deletes {
		id := fmt.Sprintf("contact-delete-%04d", i+1)
		err := a.run(ctx, id, EntityContact, "delete:"+a.cfg.OnCustomerDeleted, emailOf, func(ctx context.Context) (outcome, error) {
			return a.deleteContact(ctx, ch)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// importBatches packs changes into batches of at most 250 contacts and 400,000
// bytes (AC's bulk import limits).
func (a *applier) importBatches(chs []contactChange) [][]contactChange {
	var out [][]contactChange
	var cur []contactChange
	size := 0
	const overhead = 64 // the request envelope
	for _, ch := range chs {
		n := ac.ImportSize(a.importContact(ch.New))
		if len(cur) > 0 && (len(cur) == ac.MaxImportContacts || size+n+overhead > ac.MaxImportBytes) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, ch)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func (a *applier) importContact(c *schemas.Contact) ac.ImportContact {
	ic := ac.ImportContact{
		Email: c.Email, FirstName: c.FirstName, LastName: c.LastName, Phone: c.Phone,
		CustomerAcctName: c.Company, ExcludeAutomations: a.cfg.ExcludeAutomations,
		Subscribe: []ac.ImportList{{ListID: json.Number(a.setup.ListID)}},
	}
	for _, f := range c.Fields {
		if id := a.setup.Fields[f.Title]; id != "" {
			ic.Fields = append(ic.Fields, ac.ImportField{ID: json.Number(id), Value: f.Value})
		}
	}
	return ic
}

func (a *applier) acContact(c *schemas.Contact) ac.Contact {
	ct := ac.Contact{Email: c.Email, FirstName: c.FirstName, LastName: c.LastName, Phone: c.Phone}
	for _, f := range c.Fields {
		if id := a.setup.Fields[f.Title]; id != "" {
			ct.FieldValues = append(ct.FieldValues, ac.FieldValue{Field: ac.ID(id), Value: f.Value})
		}
	}
	return ct
}

func (a *applier) bulkImport(ctx context.Context, batch []contactChange) (outcome, error) {
	ics := make([]ac.ImportContact, len(batch))
	for i := range batch {
		ics[i] = a.importContact(batch[i].New)
	}
	batchID, err := a.c.BulkImport(ctx, ics)
	if err != nil {
		return outcome{}, err
	}
	res, err := a.c.WaitImport(ctx, batchID, a.cfg.ImportPoll)
	if err != nil {
		return outcome{}, err
	}
	failed := map[string]bool{}
	for _, e := range res.Failed {
		failed[strings.ToLower(e)] = true
	}
	var out outcome
	for _, ch := range batch {
		if failed[strings.ToLower(ch.New.Email)] {
			out.failed = append(out.failed, failedEntry{Key: ch.Key, Message: "bulk import: AC reported " + ch.New.Email + " as failed (invalid, excluded or refused)"})
		} else {
			out.acked = append(out.acked, ch.Key)
		}
	}
	return out, nil
}

// syncEach writes a few contacts one by one: cheaper than an import plus its polls.
// A new contact also needs its list subscription; an update keeps the membership.
func (a *applier) syncEach(ctx context.Context, batch []contactChange) (outcome, error) {
	var out outcome
	for _, ch := range batch {
		id, err := a.c.SyncContact(ctx, a.acContact(ch.New))
		if err == nil && ch.Op == OpCreate {
			err = a.c.SetListStatus(ctx, id, ac.ID(a.setup.ListID), ac.Subscribed)
		}
		switch {
		case err == nil:
			out.acked = append(out.acked, ch.Key)
		case ac.Rejected(err):
			out.failed = append(out.failed, failedEntry{Key: ch.Key, Message: err.Error()})
		default:
			return outcome{}, err
		}
	}
	return out, nil
}

func (a *applier) changeEmail(ctx context.Context, ch contactChange) (outcome, error) {
	found, err := a.c.FindContact(ctx, ch.Old.Email)
	if err != nil {
		return outcome{}, err
	}
	if found == nil {
		// Not in AC under the old email (removed there): create it under the new one.
		return a.syncEach(ctx, []contactChange{{Key: ch.Key, Op: OpCreate, New: ch.New}})
	}
	err = a.c.UpdateContact(ctx, found.ID, a.acContact(ch.New))
	switch {
	case err == nil:
		return outcome{acked: []string{ch.Key}}, nil
	case ac.Rejected(err):
		return outcome{failed: []failedEntry{{Key: ch.Key, Message: err.Error()}}}, nil
	}
	return outcome{}, err
}

func (a *applier) deleteContact(ctx context.Context, ch contactChange) (outcome, error) {
	ok := outcome{acked: []string{ch.Key}}
	if a.cfg.OnCustomerDeleted == "keep" {
		return ok, nil
	}
	found, err := a.c.FindContact(ctx, ch.Old.Email)
	if err != nil {
		return outcome{}, err
	}
	if found == nil {
		return ok, nil // already gone
	}
	if a.cfg.OnCustomerDeleted == "delete" {
		err = a.c.DeleteContact(ctx, found.ID)
	} else {
		err = a.c.SetListStatus(ctx, found.ID, ac.ID(a.setup.ListID), ac.Unsubscribed)
	}
	switch {
	case err == nil:
		return ok, nil
	case ac.Rejected(err):
		return outcome{failed: []failedEntry{{Key: ch.Key, Message: err.Error()}}}, nil
	}
	return outcome{}, err
}

type rpChange = Change[schemas.RecurringPayment]

// recurringPayments upserts changed recurring payments in batches. AC has no delete
// for them: a subscription deleted in Chargebee is sent as CANCELLED with storeStatus
// "deleted", so automations stop treating it as live.
func (a *applier) recurringPayments(ctx context.Context, d *Diff[schemas.RecurringPayment]) error {
	var send []rpChange
	for _, ch := range d.Changes {
		if a.failedContacts[ch.New.StoreCustomerID] {
			a.fail(EntityRecurringPayment, ch.Key, ch.New.StoreCustomerID, ch.New.Email, CodeContactFailed,
				"its contact was not synced this run (see the contact's row); sent again next run")
			continue
		}
		send = append(send, ch)
	}
	emailOf := func(k string) (string, string) {
		for _, ch := range send {
			if ch.Key == k {
				return ch.New.StoreCustomerID, ch.New.Email
			}
		}
		return "", ""
	}
	size := a.cfg.RecurringPaymentBatch
	for i := 0; i*size < len(send); i++ {
		batch := send[i*size : min((i+1)*size, len(send))]
		id := fmt.Sprintf("recurring-payments-%04d", i+1)
		err := a.run(ctx, id, EntityRecurringPayment, "upsert", emailOf, func(ctx context.Context) (outcome, error) {
			return split(ctx, batch, func(c *rpChange) string { return c.Key }, a.upsertRPs)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) upsertRPs(ctx context.Context, batch []rpChange) (outcome, error) {
	rows := make([]schemas.RecurringPayment, len(batch))
	var out outcome
	for i, ch := range batch {
		rows[i] = *ch.New
		if ch.Op == OpDelete {
			rows[i].NormalizedStatus, rows[i].StoreStatus = "CANCELLED", "deleted"
		}
		out.acked = append(out.acked, ch.Key)
	}
	if _, err := a.c.UpsertRecurringPayments(ctx, a.connID, rows); err != nil {
		return outcome{}, err
	}
	return out, nil
}
