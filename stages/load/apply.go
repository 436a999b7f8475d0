package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/load/ac"
)

// Error codes of load/errors.csv.
const (
	CodeRejected      = "ac_rejected"        // AC refused the record; its message is in the row
	CodeImportFailed  = "ac_import_failed"   // the bulk import reported the email as failed
	CodeContactFailed = "contact_not_synced" // a recurring payment held back because its contact failed
	// CodeEmailTaken: an email change to an address another AC contact already holds
	// (a lead not from Chargebee); refused on every run until someone merges or
	// deletes that contact in AC, or changes the email in Chargebee.
	CodeEmailTaken    = "email_taken"
	CodeImportTimeout = "ac_import_timeout" // the bulk import did not complete within import_timeout
	CodeNotConfirmed  = "ac_not_confirmed"  // AC accepted the batch but did not show the record within confirm_timeout
	// CodeNotAcknowledged: AC answered the batch with success but without a result
	// (null bulkUpsertRecurringPayments, no recordId); sent again next run.
	CodeNotAcknowledged = "ac_not_acknowledged"
	// CodeNotThisCustomer: the AC contact a delete or unsubscribe would touch does not
	// name the customer in its Chargebee Customer ID field (another customer took
	// the address): it is left alone, and the customer's delete counts as done.
	CodeNotThisCustomer = "contact_not_this_customer"
	// CodeEmailHeld: a new customer's address is still held by another customer's
	// contact, whose move away from it failed this run; writing by email would
	// overwrite that contact, so this one waits for it.
	CodeEmailHeld = "email_held"
)

// customerIDField is the custom field cb2ac writes every contact's Chargebee
// customer id into (schemas.DefaultFields): what proves a contact is a customer's
// before a delete or an adoption.
const customerIDField = "Chargebee Customer ID"

type applier struct {
	c      *ac.Client
	cfg    Config
	setup  *Setup
	connID int64
	j      *journal
	runID  string
	errors []schemas.ValidationError
	// contact keys that failed this load: their recurring payments wait for them.
	failedContacts map[string]bool
	// emailTaken: failed contacts whose email change AC refused as taken; the
	// contact is in AC under its old email, and its recurring payments go there.
	emailTaken map[string]bool
	// notOurs: deleted customers whose contact another customer took over (the
	// delete was not applied): their recurring payments must not write into it.
	notOurs         map[string]bool
	contactRequests int64
	// progress counts records with an outcome out of total changed ones.
	progress    func(done, total int64)
	done, total int64
	// suppress: automations kept quiet for this load (suppress_automations).
	suppress bool
	// The transform files, which the creates are read from as they are sent.
	curContacts source[schemas.Contact]
	curRPs      source[schemas.RecurringPayment]
	// underOld: recurring payments sent under their customer's old email (key →
	// that email), the email change being refused as taken; the synced snapshot
	// says so, so they are sent again until it goes through.
	underOld map[string]string
	// rpWho keeps the error-row identity (customer id, email) of the recurring
	// payments sent and not yet confirmed: a create's row is dropped once sent.
	rpWho map[string][2]string
}

func (a *applier) fail(entity string, f failedEntry) {
	a.errors = append(a.errors, schemas.ValidationError{
		RunID: a.runID, Stage: "load", Entity: entity, RecordID: f.Key, CustomerID: f.CustomerID,
		Email: f.Email, Code: f.Code, Message: f.Message,
	})
	if entity == EntityContact {
		if a.failedContacts == nil {
			a.failedContacts = map[string]bool{}
		}
		a.failedContacts[f.Key] = true
		if f.Code == CodeEmailTaken {
			if a.emailTaken == nil {
				a.emailTaken = map[string]bool{}
			}
			a.emailTaken[f.Key] = true
		}
	}
}

// replayFailures puts the rejections an earlier attempt of this load journaled back
// into errors.csv: a resumed load reports them (and exits 2) without sending them
// again.
func (a *applier) replayFailures() {
	for _, k := range slices.Sorted(maps.Keys(a.j.failed)) {
		entity, _, _ := strings.Cut(k, "/")
		a.fail(entity, a.j.failed[k])
	}
	for _, k := range slices.Sorted(maps.Keys(a.j.notes)) {
		entity, _, _ := strings.Cut(k, "/")
		a.note(entity, a.j.notes[k])
	}
}

// note writes the error row of a record settled without a write: unlike fail, the
// record counts as done, so nothing waits for it and it is not sent again.
func (a *applier) note(entity string, f failedEntry) {
	a.errors = append(a.errors, schemas.ValidationError{
		RunID: a.runID, Stage: "load", Entity: entity, RecordID: f.Key, CustomerID: f.CustomerID,
		Email: f.Email, Code: f.Code, Message: f.Message,
	})
	if entity == EntityContact && f.Code == CodeNotThisCustomer {
		if a.notOurs == nil {
			a.notOurs = map[string]bool{}
		}
		a.notOurs[f.Key] = true
	}
}

// outcome of one batch: keys acknowledged, keys failed with AC's message.
type outcome struct {
	acked  []string
	failed []failedEntry
	// tails: the last record of each request AC accepted, set by the recurring
	// payment sends (the record a confirmation by batch searches).
	tails []string
	// notes: keys settled without a write, with the error row saying why.
	notes []failedEntry
	// ids: AC contact ids learned for acknowledged contacts ("" = deleted).
	ids map[string]string
}

func (o outcome) plus(p outcome) outcome {
	ids := o.ids
	if len(p.ids) > 0 {
		ids = maps.Clone(o.ids)
		if ids == nil {
			ids = map[string]string{}
		}
		maps.Copy(ids, p.ids)
	}
	return outcome{acked: append(o.acked, p.acked...), failed: append(o.failed, p.failed...), tails: append(o.tails, p.tails...),
		notes: append(o.notes, p.notes...), ids: ids}
}

// learned is an acknowledgement of key that names its AC contact.
func learned(key string, id ac.ID) outcome {
	return outcome{acked: []string{key}, ids: map[string]string{key: string(id)}}
}

// run applies one batch and journals its outcome; who(key) gives the customer id and
// email of a failed record's error row.
func (a *applier) run(ctx context.Context, entity, kind string, who func(string) (string, string), fn func(context.Context) (outcome, error)) error {
	id := a.j.nextID(kind)
	out, err := fn(ctx)
	if err != nil {
		return fmt.Errorf("batch %s: %w", id, err)
	}
	return a.journal(id, entity, kind, who, out)
}

func (a *applier) journal(id, entity, kind string, who func(string) (string, string), out outcome) error {
	for i, f := range out.failed {
		f.CustomerID, f.Email = who(f.Key)
		if f.Code == "" {
			f.Code = CodeRejected
		}
		out.failed[i] = f
		a.fail(entity, f)
	}
	for i, f := range out.notes {
		f.CustomerID, f.Email = who(f.Key)
		out.notes[i] = f
		a.note(entity, f)
	}
	if err := a.j.append(journalEntry{Batch: id, Entity: entity, Op: kind, Acked: out.acked, Failed: out.failed, Notes: out.notes, IDs: out.ids}); err != nil {
		return err
	}
	if a.progress != nil {
		a.done += int64(len(out.acked) + len(out.failed) + len(out.notes))
		a.progress(min(a.done, a.total), a.total)
	}
	return nil
}

// split sends recs with send. When AC rejects the request as a whole and names the
// records at fault (named: index in recs → AC's message), those become failures and
// the others are sent again at once, without them: one more request per rejection,
// as AC's WooCommerce plugin re-queues the records its "Validation errors" answer
// does not name. When AC names none, split halves the batch, down to single records,
// so one bad record cannot block the others; a single rejected record becomes a
// failure with AC's own message.
func split[T any](ctx context.Context, recs []T, key func(*T) string, send func(context.Context, []T) (outcome, error), named func(error, []T) map[int]string) (outcome, error) {
	var done outcome
	for len(recs) > 0 {
		out, err := send(ctx, recs)
		if err == nil {
			return done.plus(out), nil
		}
		if !ac.Rejected(err) {
			return outcome{}, err
		}
		bad := map[int]string{}
		if named != nil {
			bad = named(err, recs)
		}
		if len(bad) == 0 {
			break // AC named no record of this batch: halve it
		}
		rest := recs[:0:0]
		for i := range recs {
			if msg, ok := bad[i]; ok {
				done.failed = append(done.failed, failedEntry{Key: key(&recs[i]), Message: msg})
			} else {
				rest = append(rest, recs[i])
			}
		}
		recs = rest
	}
	if len(recs) == 0 {
		return done, nil
	}
	out, err := halve(ctx, recs, key, send)
	if err != nil {
		return outcome{}, err
	}
	return done.plus(out), nil
}

func halve[T any](ctx context.Context, recs []T, key func(*T) string, send func(context.Context, []T) (outcome, error)) (outcome, error) {
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
	left, err := halve(ctx, recs[:mid], key, send)
	if err != nil {
		return outcome{}, err
	}
	right, err := halve(ctx, recs[mid:], key, send)
	if err != nil {
		return outcome{}, err
	}
	return left.plus(right), nil
}

// namedImportFailures reads the indexes of a refused bulk import's failureReasons.
func namedImportFailures(err error, batch []contactChange) map[int]string {
	var e *ac.Error
	if !errors.As(err, &e) {
		return nil
	}
	out := map[int]string{}
	for i, msg := range e.ImportFailures() {
		if i < len(batch) {
			out[i] = "activecampaign import/bulk_import: " + msg
		}
	}
	return out
}

// namedRPFailures reads the records of a "Validation errors" answer.
func namedRPFailures(err error, batch []rpChange) map[int]string {
	var e *ac.Error
	if !errors.As(err, &e) {
		return nil
	}
	byID := e.RecordErrors()
	out := map[int]string{}
	for i := range batch {
		if msg, ok := byID[batch[i].Key]; ok {
			out[i] = "activecampaign bulkUpsertRecurringPayments: " + ac.ValidationErrorsMessage + ": " + msg
		}
	}
	return out
}

type contactChange = Change[schemas.Contact]

func (a *applier) contacts(ctx context.Context, d *Diff[schemas.Contact]) error {
	byKey := map[string]*contactChange{}
	for i := range d.Changes {
		byKey[d.Changes[i].Key] = &d.Changes[i]
	}
	who := func(k string) (string, string) {
		if ch := byKey[k]; ch != nil && ch.New != nil {
			return ch.New.CustomerID, ch.New.Email
		}
		return k, ""
	}
	before := a.c.Stats().Requests
	defer func() { a.contactRequests += a.c.Stats().Requests - before }()

	// Imports AC queued before the last attempt stopped: their outcome is polled,
	// never sent again.
	for _, q := range a.j.queued {
		if q.Entity != EntityContact {
			continue
		}
		var batch []contactChange
		for _, k := range q.Keys {
			if ch := byKey[k]; ch != nil && !a.j.done(EntityContact, k) {
				batch = append(batch, *ch)
			}
		}
		out, err := a.waitImport(ctx, q.Import, batch)
		// An import AC does not know, or one that ended without completing: its
		// records are sent again below. Polling a failed import again would fail
		// every resume for good.
		var ended *ac.ImportEndedError
		if ac.IsImportUnknown(err) || errors.As(err, &ended) {
			continue
		}
		if err != nil {
			return fmt.Errorf("bulk import %s: %w", q.Import, err)
		}
		if err := a.journal(a.j.nextID("import"), EntityContact, "import", who, out); err != nil {
			return err
		}
	}

	// A night's operations are ordered so that an address is freed before it is
	// taken: contacts leaving AC (on_customer_deleted or on_customer_erased:
	// delete) go first, then the email changes, leaving holders before the
	// customers that take their address (see moves), then the creates and
	// updates, which are keyed by email in AC; unsubscribes last, so a customer who
	// took a leaving customer's address over is never unsubscribed with it (the
	// Chargebee Customer ID check refuses it).
	var upserts, clears, emailChanges, frees, deletes []contactChange
	for _, ch := range d.Changes {
		if a.j.done(EntityContact, ch.Key) {
			continue
		}
		switch {
		case ch.New == nil:
			// A create, read and sent below (eachCreateWindow).
		case ch.Op == OpDelete && a.deleteRule(ch) == "delete":
			frees = append(frees, ch)
		case ch.Op == OpDelete:
			deletes = append(deletes, ch)
		case ch.Op == OpUpdate && ch.Old != nil && !strings.EqualFold(ch.Old.Email, ch.New.Email):
			emailChanges = append(emailChanges, ch)
		case len(cleared(ch)) > 0:
			clears = append(clears, ch)
		default:
			upserts = append(upserts, ch)
		}
	}
	if err := a.deletes(ctx, frees, who); err != nil {
		return err
	}
	if err := a.emailChanges(ctx, emailChanges, who); err != nil {
		return err
	}
	// An address whose holder failed to leave it (its email change or delete was
	// refused) is still that customer's contact: a create under it would write into
	// that contact by email, so it waits.
	held := map[string]contactChange{}
	for _, ch := range append(frees, emailChanges...) {
		if a.failedContacts[ch.Key] && ch.Old != nil {
			held[strings.ToLower(ch.Old.Email)] = ch
		}
	}
	if len(held) > 0 {
		var err error
		if clears, err = a.holdBack(ctx, clears, held, who); err != nil {
			return err
		}
		if upserts, err = a.holdBack(ctx, upserts, held, who); err != nil {
			return err
		}
	}
	// Updates that clear a value go through contact/sync (or PUT by id), where an
	// empty value is sent; AC's importer reference does not say what a blank cell
	// does.
	for _, ch := range clears {
		err := a.run(ctx, EntityContact, "sync", who, func(ctx context.Context) (outcome, error) {
			return a.syncEach(ctx, []contactChange{ch})
		})
		if err != nil {
			return err
		}
	}
	// Creates and updates: bulk import batches packed by count and bytes; a batch too
	// small for the importer goes contact by contact, each journaled on its own. The
	// creates not yet read follow, a batch of the transform file at a time: the
	// last import batch of a window, not yet full, waits for the next window's.
	pending := upserts
	err := d.eachCreateWindow(contactEntity, a.curContacts, func(win []int) error {
		var chs []contactChange
		for _, i := range win {
			if ch := d.Changes[i]; !a.j.done(EntityContact, ch.Key) {
				chs = append(chs, ch)
			}
		}
		if len(held) > 0 {
			var err error
			if chs, err = a.holdBack(ctx, chs, held, who); err != nil {
				return err
			}
		}
		batches := a.importBatches(append(pending, chs...))
		if len(batches) == 0 {
			pending = nil
			return nil
		}
		pending = batches[len(batches)-1]
		if err := a.sendImports(ctx, d, batches[:len(batches)-1], who); err != nil {
			return err
		}
		// Every other create of the window is sent or settled (held back): its row
		// goes.
		keep := map[string]bool{}
		for _, ch := range pending {
			keep[ch.Key] = true
		}
		for _, i := range win {
			if k := d.Changes[i].Key; !keep[k] {
				d.release(k)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := a.sendImports(ctx, d, a.importBatches(pending), who); err != nil {
		return err
	}
	return a.deletes(ctx, deletes, who)
}

// sendImports sends packed contact batches: through the bulk importer, or contact
// by contact below bulk_import_min; then drops the rows of the creates sent.
func (a *applier) sendImports(ctx context.Context, d *Diff[schemas.Contact], batches [][]contactChange, who func(string) (string, string)) error {
	key := func(c *contactChange) string { return c.Key }
	for _, batch := range batches {
		if len(batch) < a.cfg.BulkImportMin {
			for _, ch := range batch {
				err := a.run(ctx, EntityContact, "sync", who, func(ctx context.Context) (outcome, error) {
					return a.syncEach(ctx, []contactChange{ch})
				})
				if err != nil {
					return err
				}
				d.release(ch.Key)
			}
			continue
		}
		err := a.run(ctx, EntityContact, "import", who, func(ctx context.Context) (outcome, error) {
			return split(ctx, batch, key, a.bulkImport, namedImportFailures)
		})
		if err != nil {
			return err
		}
		for _, ch := range batch {
			d.release(ch.Key)
		}
	}
	return nil
}

// holdBack reports the creates among chs whose address a contact that failed to
// leave it still holds, and returns the others.
func (a *applier) holdBack(ctx context.Context, chs []contactChange, held map[string]contactChange, who func(string) (string, string)) ([]contactChange, error) {
	rest := chs[:0:0]
	for _, ch := range chs {
		h, ok := held[strings.ToLower(ch.New.Email)]
		if ch.Op != OpCreate || !ok {
			rest = append(rest, ch)
			continue
		}
		err := a.run(ctx, EntityContact, "hold", who, func(context.Context) (outcome, error) {
			return outcome{failed: []failedEntry{{Key: ch.Key, Code: CodeEmailHeld, Message: fmt.Sprintf(
				"%s is still the address of customer %s's AC contact, which did not leave it this run (see that customer's row); "+
					"this customer's contact is not written into it, and waits until that contact has moved: sent again each run until then",
				ch.New.Email, h.Key)}}}, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return rest, nil
}

// deletes applies the deletes, erasures and unsubscribes of chs, each journaled.
func (a *applier) deletes(ctx context.Context, chs []contactChange, who func(string) (string, string)) error {
	for _, ch := range chs {
		rule := a.deleteRule(ch)
		what := "delete_" + rule
		if ch.New != nil && ch.New.Erased {
			what = "erase_" + rule
		}
		err := a.run(ctx, EntityContact, what, who, func(ctx context.Context) (outcome, error) {
			return a.deleteContact(ctx, ch)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// knownID is the AC contact id of a customer: learned by this load (journal),
// else the synced snapshot's; "" when neither knows it.
func (a *applier) knownID(ch contactChange) ac.ID {
	if id, ok := a.j.ids[ch.Key]; ok {
		return id
	}
	if ch.Old != nil && ch.Old.ACContactID != nil {
		return ac.ID(strconv.FormatInt(*ch.Old.ACContactID, 10))
	}
	return ""
}

// owner reads the contact's Chargebee Customer ID field; exists=false when AC has
// no contact with this id.
func (a *applier) owner(ctx context.Context, id ac.ID) (customer string, exists bool, err error) {
	field := a.setup.Fields[customerIDField]
	if field == "" {
		return "", false, fmt.Errorf("the %q field has no AC id in the setup", customerIDField)
	}
	return a.c.ContactFieldValue(ctx, id, ac.ID(field))
}

// adopt finds the customer's contact the first time a change must address it
// (no id in the synced snapshot, e.g. one written before cb2ac kept ids, or a
// contact the bulk importer created, which answers no ids): by its last synced
// email, taken only when its Chargebee Customer ID field names this customer. The
// id is journaled before anything is written to the contact. "" when there is none.
func (a *applier) adopt(ctx context.Context, ch contactChange) (ac.ID, error) {
	found, err := a.c.FindContact(ctx, ch.Old.Email)
	if err != nil || found == nil {
		return "", err
	}
	cust, exists, err := a.owner(ctx, found.ID)
	if err != nil || !exists || cust != ch.Key {
		return "", err
	}
	if err := a.j.append(journalEntry{Batch: a.j.nextID(opAdopted), Entity: EntityContact, Op: opAdopted,
		Keys: []string{ch.Key}, Contact: string(found.ID)}); err != nil {
		return "", err
	}
	return found.ID, nil
}

// importBatches packs changes into batches of at most BulkImportBatch (≤ 250)
// contacts and 400,000 bytes (AC's bulk import limits).
func (a *applier) importBatches(chs []contactChange) [][]contactChange {
	var out [][]contactChange
	var cur []contactChange
	size := 0
	const overhead = 64 // the request envelope
	for _, ch := range chs {
		n := ac.ImportSize(a.importContact(ch))
		if len(cur) > 0 && (len(cur) == a.cfg.BulkImportBatch || size+n+overhead > ac.MaxImportBytes) {
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

// The empty-value rule, the same on every contact path (contact/sync, PUT and the
// bulk import): a value is sent when it has one; a value the last synced row had
// and the new row has not is cleared, by sending "" through contact/sync or PUT
// (never through the bulk import, whose handling of blank cells AC does not
// document); a value cb2ac never had is not sent, so AC keeps what it got from
// elsewhere. Company goes as orgname on contact/sync and PUT and as
// customer_acct_name on the import.

// cleared lists what a change clears: attribute names (firstName, lastName, phone,
// orgname) and custom field titles.
func cleared(ch contactChange) []string {
	if ch.Old == nil || ch.New == nil {
		return nil
	}
	var out []string
	for _, p := range [][3]string{{"firstName", ch.Old.FirstName, ch.New.FirstName}, {"lastName", ch.Old.LastName, ch.New.LastName},
		{"phone", ch.Old.Phone, ch.New.Phone}, {"orgname", ch.Old.Company, ch.New.Company}} {
		if p[1] != "" && p[2] == "" {
			out = append(out, p[0])
		}
	}
	now := map[string]string{}
	for _, f := range ch.New.Fields {
		now[f.Title] = f.Value
	}
	for _, f := range ch.Old.Fields {
		if f.Value != "" && now[f.Title] == "" {
			out = append(out, "fields."+f.Title)
		}
	}
	return out
}

func (a *applier) importContact(ch contactChange) ac.ImportContact {
	c := ch.New
	ic := ac.ImportContact{
		Email: c.Email, FirstName: c.FirstName, LastName: c.LastName, Phone: c.Phone,
		CustomerAcctName: c.Company, ExcludeAutomations: a.suppress || a.cfg.ExcludeAutomations,
	}
	// A create asks the importer to subscribe the contact (it never re-subscribes
	// an unsubscribed one, per AC's importer reference); an update leaves the list
	// membership alone, like contact/sync.
	if ch.Op == OpCreate {
		ic.Subscribe = []ac.ImportList{{ListID: json.Number(a.setup.ListID)}}
	}
	for _, f := range c.Fields {
		if id := a.setup.Fields[f.Title]; id != "" && f.Value != "" {
			ic.Fields = append(ic.Fields, ac.ImportField{ID: json.Number(id), Value: f.Value})
		}
	}
	return ic
}

func (a *applier) acContact(ch contactChange) ac.Contact {
	c := ch.New
	ct := ac.Contact{Email: c.Email, FirstName: c.FirstName, LastName: c.LastName, Phone: c.Phone, Orgname: c.Company}
	clear := map[string]bool{}
	for _, k := range cleared(ch) {
		clear[k] = true
		if !strings.HasPrefix(k, "fields.") {
			ct.Clear = append(ct.Clear, k)
		}
	}
	for _, f := range c.Fields {
		if id := a.setup.Fields[f.Title]; id != "" && (f.Value != "" || clear["fields."+f.Title]) {
			ct.FieldValues = append(ct.FieldValues, ac.FieldValue{Field: ac.ID(id), Value: f.Value})
		}
	}
	return ct
}

// bulkImport queues one import, journals that AC holds it (so a load killed while
// it runs polls it on resume instead of importing the contacts twice), and waits for
// its outcome.
func (a *applier) bulkImport(ctx context.Context, batch []contactChange) (outcome, error) {
	ics := make([]ac.ImportContact, len(batch))
	keys := make([]string, len(batch))
	for i := range batch {
		ics[i] = a.importContact(batch[i])
		keys[i] = batch[i].Key
	}
	batchID, err := a.c.BulkImport(ctx, ics)
	if err != nil {
		return outcome{}, err
	}
	if err := a.j.append(journalEntry{Batch: a.j.nextID(opQueued), Entity: EntityContact, Op: opQueued, Import: batchID, Keys: keys}); err != nil {
		return outcome{}, err
	}
	return a.waitImport(ctx, batchID, batch)
}

// waitImport turns a finished import into an outcome: AC reports failures by email.
// An import still running at import_timeout is left to the next run: its contacts
// are reported (ac_import_timeout), not counted as synced, and their recurring
// payments wait with them.
func (a *applier) waitImport(ctx context.Context, batchID string, batch []contactChange) (outcome, error) {
	res, err := a.c.WaitImport(ctx, batchID, a.cfg.ImportPoll, a.cfg.ImportTimeout)
	var late *ac.ImportTimeoutError
	if errors.As(err, &late) {
		var out outcome
		for _, ch := range batch {
			out.failed = append(out.failed, failedEntry{Key: ch.Key, Code: CodeImportTimeout, Message: late.Error()})
		}
		return out, nil
	}
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
			out.failed = append(out.failed, failedEntry{Key: ch.Key, Code: CodeImportFailed,
				Message: "bulk import " + batchID + ": AC reported " + ch.New.Email + " as failed (invalid, excluded or refused)"})
		} else {
			out.acked = append(out.acked, ch.Key)
		}
	}
	return out, nil
}

// syncEach writes a few contacts one by one: cheaper than an import plus its polls.
// A new contact also needs its list subscription, unless it was in AC already and
// unsubscribed from the list: like the importer, cb2ac never re-subscribes anyone.
// An update keeps the membership.
func (a *applier) syncEach(ctx context.Context, batch []contactChange) (outcome, error) {
	var out outcome
	for _, ch := range batch {
		id, synced := a.j.synced[ch.Key] // by an attempt that stopped before subscribing
		known := a.knownID(ch)
		var err error
		switch {
		case synced:
		case ch.Op == OpUpdate && known != "":
			// The contact is addressed by its id: one PUT, whoever holds which
			// address in AC.
			id, err = known, a.c.UpdateContact(ctx, known, a.acContact(ch))
			if ac.IsNotFound(err) { // deleted in AC since: by email again
				id, err = a.c.SyncContact(ctx, a.acContact(ch))
			}
		default:
			id, err = a.c.SyncContact(ctx, a.acContact(ch))
			if err == nil && ch.Op == OpCreate {
				err = a.j.append(journalEntry{Batch: a.j.nextID(opSynced), Entity: EntityContact, Op: opSynced,
					Keys: []string{ch.Key}, Contact: string(id)})
			}
		}
		if err == nil && ch.Op == OpCreate {
			err = a.subscribe(ctx, id)
		}
		switch {
		case err == nil:
			out = out.plus(learned(ch.Key, id))
		case ac.Rejected(err):
			out.failed = append(out.failed, failedEntry{Key: ch.Key, Message: err.Error()})
		default:
			return outcome{}, err
		}
	}
	return out, nil
}

// subscribe puts a contact on the list only when it has never been on it: any
// status AC holds (0 unconfirmed, 1 active, 2 unsubscribed, 3 bounced) is kept.
// AC's terms do not allow adding contacts as confirmed by hand over an unconfirmed
// status, and an unsubscribed or bounced contact stays so.
func (a *applier) subscribe(ctx context.Context, id ac.ID) error {
	list := ac.ID(a.setup.ListID)
	st, err := a.c.ListStatus(ctx, id, list)
	if err != nil || st != ac.NotOnList {
		return err
	}
	return a.c.SetListStatus(ctx, id, list, ac.Subscribed)
}

// emailChanges moves contacts to their new addresses, each addressed by its id
// (the synced snapshot's, or adopted by its old address the first time), in an
// order where an address is freed before it is taken: a contact whose new
// address another of tonight's changes leaves waits until that one moved. A
// cycle (two customers swapping addresses, or a longer ring) is broken by moving
// one contact to a temporary address first (tempAddress), which frees its old
// one; it takes its new address once that is free, so a swap converges in one
// run (three PUTs). A change whose contact is not in AC under its old address
// creates one under the new address, after the moves.
func (a *applier) emailChanges(ctx context.Context, chs []contactChange, who func(string) (string, string)) error {
	type move struct {
		ch      contactChange
		id      ac.ID
		done    bool
		aside   bool // parked at its temporary address
		newAddr string
	}
	moves := make([]*move, 0, len(chs))
	holder := map[string]*move{} // address (lower case) → the move leaving it
	for _, ch := range chs {
		id := a.knownID(ch)
		if id == "" {
			var err error
			if id, err = a.adopt(ctx, ch); err != nil {
				return fmt.Errorf("email change of %s: find its contact: %w", ch.Key, err)
			}
		}
		m := &move{ch: ch, id: id, newAddr: strings.ToLower(ch.New.Email)}
		moves = append(moves, m)
		if old := strings.ToLower(ch.Old.Email); id != "" && holder[old] == nil {
			holder[old] = m
		}
	}
	ready := func(m *move) bool {
		h := holder[m.newAddr]
		return h == nil || h == m || h.done || h.aside
	}
	for left := len(moves); left > 0; {
		progress := false
		for _, m := range moves {
			if m.done || !ready(m) {
				continue
			}
			err := a.run(ctx, EntityContact, "email_change", who, func(ctx context.Context) (outcome, error) {
				return a.changeEmail(ctx, m.ch, m.id)
			})
			if err != nil {
				return err
			}
			m.done, progress = true, true
			left--
		}
		if progress || left == 0 {
			continue
		}
		// Every change left waits for another: a cycle. The first contact of it
		// steps aside.
		var m *move
		for _, c := range moves {
			if !c.done && !c.aside && c.id != "" {
				m = c
				break
			}
		}
		if m == nil {
			return fmt.Errorf("email changes: %d wait for each other and none can step aside", left)
		}
		m.aside = true
		err := a.c.UpdateContact(ctx, m.id, ac.Contact{Email: tempAddress(m.ch.Old.Email)})
		if err != nil && !ac.IsNotFound(err) {
			if !ac.Rejected(err) {
				return fmt.Errorf("email change of %s: step aside to %s: %w", m.ch.Key, tempAddress(m.ch.Old.Email), err)
			}
			// Refused: it cannot free its address tonight, and neither can the
			// changes that wait for it; they are refused as taken below.
			refused := err
			err := a.run(ctx, EntityContact, "email_change", who, func(context.Context) (outcome, error) {
				return outcome{failed: []failedEntry{{Key: m.ch.Key, Message: "moving the contact to a temporary address to free " +
					m.ch.Old.Email + " for a swap of addresses failed: " + refused.Error() + "; sent again next run"}}}, nil
			})
			if err != nil {
				return err
			}
			m.done = true
			left--
		}
	}
	return nil
}

// tempAddress is where a contact waits during a swap of addresses: its old
// address with a "+cb2ac-swap" tag, a valid address no customer holds, in the
// same domain. It holds it for the seconds between two PUTs; a load killed in
// between leaves the contact there until the next run moves it by its id.
func tempAddress(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return email + "+cb2ac-swap"
	}
	return email[:at] + "+cb2ac-swap" + email[at:]
}

// changeEmail moves the contact with this id to the customer's new address (one
// PUT). With no id (no contact of this customer's under the old address), or one
// AC no longer has, the contact is created under the new address.
func (a *applier) changeEmail(ctx context.Context, ch contactChange, id ac.ID) (outcome, error) {
	create := []contactChange{{Key: ch.Key, Op: OpCreate, New: ch.New}}
	if id == "" {
		return a.syncEach(ctx, create)
	}
	err := a.c.UpdateContact(ctx, id, a.acContact(ch))
	var e *ac.Error
	switch {
	case err == nil:
		return learned(ch.Key, id), nil
	case ac.IsNotFound(err):
		return a.syncEach(ctx, create)
	case errors.As(err, &e) && e.HasCode("duplicate"):
		// Another contact, not one of tonight's leaving holders (they moved
		// first), holds the new address. It will be refused every run until a
		// person acts; the recurring payments go on under the old email meanwhile.
		return outcome{failed: []failedEntry{{Key: ch.Key, Code: CodeEmailTaken, Message: fmt.Sprintf(
			"ActiveCampaign already has another contact with the email %s, so this customer's contact (still under %s) cannot take it; "+
				"merge or delete that other contact in AC, or change the email in Chargebee. Until then this is refused on every run; "+
				"the customer's recurring payments are sent meanwhile under %s",
			ch.New.Email, ch.Old.Email, ch.Old.Email)}}}, nil
	case ac.Rejected(err):
		return outcome{failed: []failedEntry{{Key: ch.Key, Message: err.Error()}}}, nil
	}
	return outcome{}, err
}

// deleteRule is what happens in AC to the contact of a delete: on_customer_erased
// for a customer whose personal data Chargebee cleared, else on_customer_deleted.
func (a *applier) deleteRule(ch contactChange) string {
	if ch.New != nil && ch.New.Erased {
		return a.cfg.OnCustomerErased
	}
	return a.cfg.OnCustomerDeleted
}

// deleteContact deletes or unsubscribes the customer's contact, addressed by its
// id (else found by its last synced email), and only when the contact's Chargebee
// Customer ID field names the customer: a contact another customer took over (the
// same address signed up again) is left alone, with a row saying so.
func (a *applier) deleteContact(ctx context.Context, ch contactChange) (outcome, error) {
	ok := outcome{acked: []string{ch.Key}}
	rule := a.deleteRule(ch)
	if rule == "keep" {
		return ok, nil
	}
	gone := outcome{acked: []string{ch.Key}, ids: map[string]string{ch.Key: ""}}
	id := a.knownID(ch)
	if id == "" {
		found, err := a.c.FindContact(ctx, ch.Old.Email)
		if err != nil {
			return outcome{}, err
		}
		if found == nil {
			return gone, nil // already gone
		}
		id = found.ID
	}
	cust, exists, err := a.owner(ctx, id)
	if err != nil {
		return outcome{}, err
	}
	if !exists {
		return gone, nil
	}
	if cust != ch.Key {
		verb := "deleted"
		if rule != "delete" {
			verb = "unsubscribed"
		}
		return outcome{ids: map[string]string{ch.Key: ""}, notes: []failedEntry{{Key: ch.Key, Code: CodeNotThisCustomer, Message: fmt.Sprintf(
			"AC contact %s was not %s: its %s field says %q, not %s (another customer took the address over), so it is not this customer's contact any more; "+
				"it is left as it is, and this customer's removal counts as done (not tried again)",
			id, verb, customerIDField, cust, ch.Key)}}}, nil
	}
	if rule == "delete" {
		err = a.c.DeleteContact(ctx, id)
	} else {
		err = a.c.SetListStatus(ctx, id, ac.ID(a.setup.ListID), ac.Unsubscribed)
	}
	switch {
	case err == nil && rule == "delete":
		return gone, nil
	case err == nil:
		return learned(ch.Key, id), nil
	case ac.Rejected(err):
		return outcome{failed: []failedEntry{{Key: ch.Key, Message: err.Error()}}}, nil
	}
	return outcome{}, err
}

type rpChange = Change[schemas.RecurringPayment]

// recurringPayments upserts changed recurring payments in batches. AC has no delete
// for them: a subscription deleted in Chargebee is sent as CANCELLED with storeStatus
// "deleted", so automations stop treating it as live.
//
// AC answers each batch with the id of an asynchronous batch and documents no way
// to ask for its status, so a record counts as synced only once
// searchRecurringPayment shows it as sent. Every batch is sent first (what AC
// rejects at once is an error row then), each journaled as "sent"; the sent batches
// are then confirmed together (confirm). A load stopped in between has journaled
// none of those records as acknowledged: --resume confirms them, the next plain run
// sends them again (upserts by key).
func (a *applier) recurringPayments(ctx context.Context, d *Diff[schemas.RecurringPayment], cd *Diff[schemas.Contact]) error {
	// A recurring payment carries its customer's email, and customerData writes
	// into the contact: what it may say depends on what became of the contact.
	fate := map[string]contactFate{}
	for _, ch := range cd.Changes {
		if ch.Op != OpDelete {
			continue
		}
		switch erased, rule := ch.New != nil && ch.New.Erased, a.deleteRule(ch); {
		case a.notOurs[ch.Key] && !erased:
			// The address is another customer's contact now: the email and
			// customerData stay out, as for a deleted contact (an erasure clears
			// the email below).
			fate[ch.Key] = fateGone
		case erased && rule == "delete":
			fate[ch.Key] = fateErased
		case erased:
			fate[ch.Key] = fateErasedKept
		case rule == "delete":
			fate[ch.Key] = fateGone
		}
	}
	// A customer whose email change AC refused as taken (email_taken) stayed in AC
	// under its old email: its payments go to that contact under that email (under
	// the new one AC would attach them to the other contact). Their synced rows get
	// a hash no transform row has, so they are sent again each run until the email
	// change goes through and they can carry the new email.
	if a.underOld == nil {
		a.underOld = map[string]string{}
	}
	moveUnderOld := func(ch rpChange) {
		cust := ch.New.StoreCustomerID
		if !a.emailTaken[cust] || fate[cust] != fateLive {
			return
		}
		if i, ok := cd.changed[cust]; ok && cd.Changes[i].Old != nil && cd.Changes[i].Old.Email != "" {
			ch.New.Email = cd.Changes[i].Old.Email
			ch.New.RowHash = ^ch.New.RowHash
			// Its field hashes are the transform's no more: without them the next
			// plan names this row's changes from both rows whole.
			ch.New.FieldHashes = nil
			a.underOld[ch.Key] = ch.New.Email
		}
	}
	for _, ch := range d.Changes {
		if ch.New != nil {
			moveUnderOld(ch)
		}
	}
	change := func(k string) *rpChange {
		if i, ok := d.changed[k]; ok {
			return &d.Changes[i]
		}
		return nil
	}
	if a.rpWho == nil {
		a.rpWho = map[string][2]string{}
	}
	who := func(k string) (string, string) {
		if ch := change(k); ch != nil && ch.New != nil {
			return ch.New.StoreCustomerID, ch.New.Email
		}
		if w, ok := a.rpWho[k]; ok {
			return w[0], w[1]
		}
		return "", ""
	}
	// want is what the confirmation compares for a record: the confirm fields of
	// its input, recomputed rather than kept from the send.
	want := func(k string) map[string]any {
		ch := change(k)
		if ch == nil {
			return nil
		}
		in := rpInput(a.connID, *ch, fate[ch.New.StoreCustomerID])
		w := make(map[string]any, len(confirmFields))
		for _, f := range confirmFields {
			if v, ok := in[f]; ok {
				w[f] = v
			}
		}
		return w
	}

	// Batches an earlier attempt of this load sent and had not confirmed: they are
	// confirmed with this attempt's, not sent again.
	var pending []*sentBatch
	awaiting := map[string]bool{}
	for _, e := range a.j.sent {
		if e.Entity != EntityRecurringPayment {
			continue
		}
		var keys []string
		for _, k := range e.Keys {
			if !a.j.done(EntityRecurringPayment, k) && change(k) != nil {
				keys = append(keys, k)
				awaiting[k] = true
			}
		}
		if len(keys) > 0 {
			pending = append(pending, a.awaitBatch(keys, e.Tails, want))
		}
	}

	// consider says whether a change is sent, and reports the records whose contact
	// failed.
	consider := func(ch rpChange) bool {
		if a.j.done(EntityRecurringPayment, ch.Key) || awaiting[ch.Key] {
			return false
		}
		if _, ok := a.underOld[ch.Key]; ok {
			return true
		}
		if a.failedContacts[ch.New.StoreCustomerID] {
			a.fail(EntityRecurringPayment, failedEntry{Key: ch.Key, CustomerID: ch.New.StoreCustomerID, Email: ch.New.Email,
				Code: CodeContactFailed, Message: "its contact was not synced this run (see the contact's row); sent again next run"})
			return false
		}
		return true
	}
	var send []rpChange
	for _, ch := range d.Changes {
		if ch.New != nil && consider(ch) {
			send = append(send, ch)
		}
	}
	upsert := func(ctx context.Context, batch []rpChange) (outcome, error) { return a.upsertRPs(ctx, batch, fate) }
	size := a.cfg.RecurringPaymentBatch
	sendBatch := func(batch []rpChange) error {
		defer func() {
			for _, ch := range batch {
				d.release(ch.Key)
			}
		}()
		if a.cfg.Confirm == "off" {
			return a.run(ctx, EntityRecurringPayment, "upsert", who, func(ctx context.Context) (outcome, error) {
				return split(ctx, batch, func(c *rpChange) string { return c.Key }, upsert, namedRPFailures)
			})
		}
		id := a.j.nextID(opSent)
		out, err := split(ctx, batch, func(c *rpChange) string { return c.Key }, upsert, namedRPFailures)
		if err != nil {
			return fmt.Errorf("batch %s: %w", id, err)
		}
		if err := a.journalSent(id, who, out); err != nil {
			return err
		}
		if len(out.acked) > 0 {
			for _, k := range out.acked {
				if ch := change(k); ch != nil && ch.Op == OpCreate {
					a.rpWho[k] = [2]string{ch.New.StoreCustomerID, ch.New.Email}
				}
			}
			pending = append(pending, a.awaitBatch(out.acked, out.tails, want))
		}
		return nil
	}
	// The updates and deletes (and the creates a resume settles first), then the
	// creates not yet read, a batch of the transform file at a time; a batch not
	// yet full waits for the next window's records.
	flush := func(all bool) error {
		for len(send) >= size || (all && len(send) > 0) {
			n := min(size, len(send))
			if err := sendBatch(send[:n]); err != nil {
				return err
			}
			clear(send[:n]) // the backing array would keep their rows
			send = send[n:]
		}
		return nil
	}
	err := d.eachCreateWindow(rpEntity, a.curRPs, func(win []int) error {
		for _, i := range win {
			ch := d.Changes[i]
			moveUnderOld(ch)
			if consider(ch) {
				send = append(send, ch)
			} else {
				d.release(ch.Key)
			}
		}
		return flush(false)
	})
	if err == nil {
		err = flush(true)
	}
	if err != nil {
		return err
	}
	return a.confirm(ctx, pending, who)
}

// journalSent writes a "sent" line: the records AC accepted, awaiting
// confirmation, and those it rejected at once (error rows now).
func (a *applier) journalSent(id string, who func(string) (string, string), out outcome) error {
	for i, f := range out.failed {
		f.CustomerID, f.Email = who(f.Key)
		if f.Code == "" {
			f.Code = CodeRejected
		}
		out.failed[i] = f
		a.fail(EntityRecurringPayment, f)
	}
	if err := a.j.append(journalEntry{Batch: id, Entity: EntityRecurringPayment, Op: opSent, Keys: out.acked, Tails: out.tails, Failed: out.failed}); err != nil {
		return err
	}
	if a.progress != nil && len(out.failed) > 0 {
		a.done += int64(len(out.failed))
		a.progress(min(a.done, a.total), a.total)
	}
	return nil
}

// upsertRPs sends one request; its records are acknowledged by AC, to be confirmed.
func (a *applier) upsertRPs(ctx context.Context, batch []rpChange, fate map[string]contactFate) (outcome, error) {
	inputs := make([]map[string]any, len(batch))
	keys := make([]string, len(batch))
	for i, ch := range batch {
		inputs[i] = rpInput(a.connID, ch, fate[ch.New.StoreCustomerID])
		if a.suppress {
			inputs[i]["suppressAutomations"] = true
		}
		keys[i] = ch.Key
	}
	if _, err := a.c.UpsertRecurringPaymentInputs(ctx, inputs); err != nil {
		var na *ac.NotAcknowledgedError
		if !errors.As(err, &na) {
			return outcome{}, err
		}
		// AC's answer does not say it took the batch: every record of it is an
		// error row, keeps its old synced row and is sent again next run.
		var out outcome
		for _, k := range keys {
			out.failed = append(out.failed, failedEntry{Key: k, Code: CodeNotAcknowledged, Message: err.Error() + "; sent again next run"})
		}
		return out, nil
	}
	return outcome{acked: keys, tails: keys[len(keys)-1:]}, nil
}

// sentBatch is a batch AC accepted and was not yet seen to hold: its keys, and the
// records the confirmation searches for with the confirm fields sent (every record
// under "all"; under "batch" the last record of each request AC accepted, which
// stands for its asynchronous batch). Only this is kept per batch, not its inputs.
type sentBatch struct {
	keys []string
	look []lookup
}

type lookup struct {
	key  string
	want map[string]any
	seen bool
}

func (a *applier) awaitBatch(keys, tails []string, want func(string) map[string]any) *sentBatch {
	b := &sentBatch{keys: keys}
	look := keys
	if a.cfg.Confirm == "batch" {
		in := map[string]bool{}
		for _, k := range keys {
			in[k] = true
		}
		look = nil
		for _, k := range tails {
			if in[k] {
				look = append(look, k)
			}
		}
		if len(look) == 0 { // a line written without tails: the last record stands for the batch
			look = keys[len(keys)-1:]
		}
	}
	for _, k := range look {
		b.look = append(b.look, lookup{key: k, want: want(k)})
	}
	return b
}

// confirm waits import_poll once, then searches (searchRecurringPayment, by
// connection and storeRecurringPaymentId) for the records the sent batches are
// confirmed by, round after round, backing off up to 30s, and journals each batch
// as soon as its outcome is known: acknowledged when AC holds its records as sent,
// ac_not_confirmed rows when it still does not at confirm_timeout. The timeout runs
// from the start of the confirmation, which follows the last send; a record is
// reported only after a search made past that deadline (one round over many
// batches can outlast it), so every batch has had at least confirm_timeout since
// it was sent.
func (a *applier) confirm(ctx context.Context, pending []*sentBatch, who func(string) (string, string)) error {
	if a.cfg.Confirm == "off" { // batches an attempt sent under another setting
		for _, b := range pending {
			if err := a.journal(a.j.nextID("upsert"), EntityRecurringPayment, "upsert", who, outcome{acked: b.keys}); err != nil {
				return err
			}
		}
		return nil
	}
	if len(pending) == 0 {
		return nil
	}
	delay := a.cfg.ImportPoll
	if delay <= 0 {
		delay = 2 * time.Second
	}
	deadline := time.Now().Add(a.cfg.ConfirmTimeout)
	for len(pending) > 0 {
		t := time.NewTimer(min(delay, max(time.Until(deadline), 0)))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("confirming recurring payments: %w", ctx.Err())
		case <-t.C:
		}
		still := pending[:0]
		for _, b := range pending {
			late := !time.Now().Before(deadline)
			seen := true
			for i := range b.look {
				l := &b.look[i]
				if l.seen {
					continue
				}
				found, err := a.c.SearchRecurringPayments(ctx, a.connID, l.key)
				if err != nil {
					return fmt.Errorf("confirming recurring payments: %w", err)
				}
				l.seen = len(found) > 0 && holds(found[0], l.want)
				seen = seen && l.seen
			}
			if !seen && !late {
				still = append(still, b)
				continue
			}
			if err := a.journal(a.j.nextID("upsert"), EntityRecurringPayment, "upsert", who, b.outcome(a.cfg.ConfirmTimeout)); err != nil {
				return err
			}
		}
		pending = still
		delay = min(delay*2, 30*time.Second)
	}
	return nil
}

// outcome of a batch whose searches are over: every record acknowledged when AC
// showed every record looked for; else those it showed, and ac_not_confirmed rows
// for the others (under "batch", a record not looked for goes with its batch).
func (b *sentBatch) outcome(timeout time.Duration) outcome {
	var out outcome
	look := map[string]bool{}
	all := true
	for _, l := range b.look {
		look[l.key] = l.seen
		all = all && l.seen
	}
	for _, k := range b.keys {
		seen, looked := look[k]
		switch {
		case all || seen:
			out.acked = append(out.acked, k)
		case looked:
			out.failed = append(out.failed, failedEntry{Key: k, Code: CodeNotConfirmed,
				Message: fmt.Sprintf("AC accepted the batch but searchRecurringPayment did not show this record as sent within %s (activecampaign.confirm_timeout); sent again next run", timeout)})
		default:
			out.failed = append(out.failed, failedEntry{Key: k, Code: CodeNotConfirmed,
				Message: fmt.Sprintf("AC did not show the last record of this record's batch within %s (activecampaign.confirm_timeout); sent again next run", timeout)})
		}
	}
	return out
}

// confirmFields are compared to decide that AC holds a record as sent: the status
// pair, the amount and the store's modification date change with every real update
// transform sends.
var confirmFields = []string{"normalizedStatus", "storeStatus", "paymentAmount", "storeModifiedDate"}

// holds reports whether AC's record carries what was sent in the confirm fields.
func holds(got ac.RecurringPayment, sent map[string]any) bool {
	for _, f := range confirmFields {
		w, ok := sent[f]
		if !ok {
			continue
		}
		if !sameValue(w, got[f]) {
			return false
		}
	}
	return true
}

// rpInput is the GraphQL input of one change. AC merges an upsert into the record it
// has, so a field that had a value and has none now is sent as an explicit null:
// left out, AC would keep the stale value (a cancelled subscription's old
// nextPaymentDate).
func rpInput(connID int64, ch rpChange, fate contactFate) map[string]any {
	row := *ch.New
	if ch.Op == OpDelete {
		row.NormalizedStatus, row.StoreStatus = "CANCELLED", "deleted"
	}
	in := ac.RecurringPaymentInput(connID, &row)
	if ch.Old != nil {
		for k := range ac.RecurringPaymentInput(connID, ch.Old) {
			if _, ok := in[k]; !ok {
				in[k] = nil
			}
		}
	}
	switch fate {
	case fateGone:
		// AC makes a contact for an email it does not know, which would bring the
		// deleted contact back: the email and customerData stay out.
		delete(in, "email")
		delete(in, "customerData")
	case fateErased:
		// The personal data goes from the recurring payment too: an explicit null
		// clears the email (a null makes no contact); customerData would write
		// into a contact, so it stays out.
		in["email"] = nil
		delete(in, "customerData")
	case fateErasedKept:
		// on_customer_erased: keep leaves AC's copy as it was.
		for _, k := range []string{"email", "customerData", "billingAddress", "shippingAddress"} {
			delete(in, k)
		}
	}
	return in
}

// contactFate is what this load does to the contact of a recurring payment's
// customer, as far as the payment's personal fields are concerned.
type contactFate uint8

const (
	fateLive       contactFate = iota
	fateGone                   // deleted from AC (on_customer_deleted: delete)
	fateErased                 // erased in Chargebee, deleted from AC
	fateErasedKept             // erased in Chargebee, kept in AC (on_customer_erased: keep)
)
