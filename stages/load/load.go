package load

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/load/ac"
)

// Config holds the load keys of the config file (section activecampaign).
type Config struct {
	APIURL string `yaml:"api_url" json:"api_url,omitempty"`
	// List is the list contacts are subscribed to, by name or id; it must exist.
	List string `yaml:"list" json:"list,omitempty"`
	// OnCustomerDeleted: keep, unsubscribe (from the list) or delete the AC contact
	// of a customer deleted in Chargebee.
	OnCustomerDeleted string `yaml:"on_customer_deleted" json:"on_customer_deleted,omitempty"`
	// OnCustomerErased: delete (default) or keep the AC contact of a customer whose
	// personal data Chargebee cleared (pii_cleared = cleared). An erasure request
	// covers the marketing copy too, so the default deletes it.
	OnCustomerErased string `yaml:"on_customer_erased" json:"on_customer_erased,omitempty"`
	// ExcludeAutomations asks every bulk import not to start automations, whatever
	// suppress_automations decides (kept from before suppress_automations).
	ExcludeAutomations bool `yaml:"exclude_automations" json:"exclude_automations,omitempty"`
	// SuppressAutomations keeps AC's automations from starting for what this load
	// sends: suppressAutomations: true on every recurring payment (as AC's
	// WooCommerce plugin does for its historical sync) and exclude_automations: true
	// on every bulk import. Unset: on for a first sync, a --full load and a backfill
	// (a load whose transform is not this run's own), off for the nightly changes.
	SuppressAutomations *bool `yaml:"suppress_automations" json:"suppress_automations,omitempty"`
	// FieldPrefix is put before the title of every custom field cb2ac creates or
	// adopts ("CB " → "CB Plan"), for accounts other integrations share.
	FieldPrefix string `yaml:"field_prefix" json:"field_prefix,omitempty"`
	// ImportTimeout bounds the wait for one bulk import to complete (default 30m).
	// Past it the import's contacts are reported (ac_import_timeout) and sent again
	// next run; they are not counted as synced.
	ImportTimeout time.Duration `yaml:"import_timeout" json:"import_timeout,omitempty"`
	// ConfirmTimeout bounds the wait for AC to show the recurring payments it
	// accepted (default 10m), counted from the start of the confirmation, which
	// follows the last batch sent; records it does not show by then are reported
	// (ac_not_confirmed) and sent again next run.
	ConfirmTimeout time.Duration `yaml:"confirm_timeout" json:"confirm_timeout,omitempty"`
	// Confirm says how a recurring payment AC accepted is confirmed before it counts
	// as synced (AC answers bulkUpsertRecurringPayments with the id of an
	// asynchronous batch and documents no status query for it): "batch" (default)
	// searches only the batch's last record: AC rejects invalid records
	// synchronously (Validation errors), and applies an accepted batch as a whole,
	// so its last record stands for it (a record AC dropped on its own is found by
	// verify); "all" searches every record, one request per record, for small
	// accounts; "off" counts a record as synced when AC accepted the batch. Every
	// batch is sent first, then the sent batches are confirmed together.
	Confirm string `yaml:"confirm_recurring_payments" json:"confirm_recurring_payments,omitempty"`
	// ImportRateWait is the wait after the bulk importer's "Rate limit exceeded."
	// (default 1m, as AC's message says).
	ImportRateWait time.Duration `yaml:"import_rate_wait" json:"import_rate_wait,omitempty"`
	// RateLimit is requests per second for the account (default 5, AC's limit; the
	// account's other integrations share it, so lower it if they are busy).
	RateLimit float64 `yaml:"rate_limit" json:"rate_limit,omitempty"`
	// RecurringPaymentBatch is records per bulkUpsertRecurringPayments (default 100).
	RecurringPaymentBatch int `yaml:"recurring_payment_batch" json:"recurring_payment_batch,omitempty"`
	// BulkImportBatch is contacts per bulk import (default and most 250, AC's limit).
	BulkImportBatch int `yaml:"bulk_import_batch" json:"bulk_import_batch,omitempty"`
	// BulkImportMin: batches with fewer changed contacts go through contact/sync
	// (one request per contact) instead of a bulk import (one request plus status
	// polls); AC suggests the importer from about 10 contacts (default 10).
	BulkImportMin int `yaml:"bulk_import_min" json:"bulk_import_min,omitempty"`
	// ImportPoll is the first wait before polling a bulk import (default 2s).
	ImportPoll time.Duration `yaml:"import_poll" json:"import_poll,omitempty"`
	// Timeout bounds one request to AC, answer included (default 30s); a request
	// that times out is retried like a 5xx.
	Timeout time.Duration `yaml:"timeout" json:"timeout,omitempty"`
	// MaxAttempts bounds the tries of one request, the first included (default 6).
	// Past it the load stops (exit 1), and `run --resume` carries on.
	MaxAttempts int `yaml:"max_attempts" json:"max_attempts,omitempty"`
	// Site names the Chargebee site read, whichever way it was given
	// (chargebee.site, CHARGEBEE_SITE, or the API URL: pipeline.SiteKey): the
	// connection's externalid, so two sites synced into one AC account never share
	// a connection (and so never each other's recurring payment keys).
	Site string `yaml:"-" json:"-"`
	// ConfigSite is chargebee.site alone: the connection's externalid before the
	// site from the environment counted too (see LegacyConnectionExternalID).
	ConfigSite string `yaml:"-" json:"-"`
}

// ConnectionExternalID identifies this Chargebee site's Deep Data connection.
func (c Config) ConnectionExternalID() string {
	if c.Site != "" {
		return c.Site
	}
	return c.LegacyConnectionExternalID()
}

// LegacyConnectionExternalID is the externalid cb2ac gave the connection before
// it named every site: chargebee.site, else "chargebee" (whatever CHARGEBEE_SITE or
// CHARGEBEE_API_URL said). Setup adopts a connection found under it.
func (c Config) LegacyConnectionExternalID() string {
	if c.ConfigSite != "" {
		return c.ConfigSite
	}
	return "chargebee"
}

// DefaultList is the list cb2ac.example.yaml names: the one a config that names no
// list subscribes contacts to.
const DefaultList = "Customers"

// Check refuses values the loader would otherwise reject half way; an empty value
// takes its default. Errors name the config key (under activecampaign).
func (c Config) Check() error {
	switch c.OnCustomerDeleted {
	case "", "keep", "unsubscribe", "delete":
	default:
		return fmt.Errorf("on_customer_deleted %q: want keep, unsubscribe or delete", c.OnCustomerDeleted)
	}
	switch c.OnCustomerErased {
	case "", "keep", "delete":
	default:
		return fmt.Errorf("on_customer_erased %q: want delete or keep", c.OnCustomerErased)
	}
	switch c.Confirm {
	case "", "all", "batch", "off":
	default:
		return fmt.Errorf("confirm_recurring_payments %q: want all, batch or off", c.Confirm)
	}
	if c.Timeout < 0 || c.MaxAttempts < 0 {
		return fmt.Errorf("timeout %v and max_attempts %d must not be negative", c.Timeout, c.MaxAttempts)
	}
	if c.ImportTimeout < 0 || c.ConfirmTimeout < 0 || c.ImportRateWait < 0 {
		return fmt.Errorf("import_timeout, confirm_timeout and import_rate_wait must not be negative")
	}
	return nil
}

func (c *Config) defaults() {
	if c.List == "" {
		c.List = DefaultList
	}
	if c.OnCustomerDeleted == "" {
		c.OnCustomerDeleted = "keep"
	}
	if c.OnCustomerErased == "" {
		c.OnCustomerErased = "delete"
	}
	if c.RecurringPaymentBatch <= 0 {
		c.RecurringPaymentBatch = 100
	}
	if c.BulkImportBatch <= 0 || c.BulkImportBatch > ac.MaxImportContacts {
		c.BulkImportBatch = ac.MaxImportContacts
	}
	if c.BulkImportMin <= 0 {
		c.BulkImportMin = 10
	}
	if c.ImportTimeout <= 0 {
		c.ImportTimeout = 30 * time.Minute
	}
	if c.Confirm == "" {
		c.Confirm = "batch"
	}
	if c.ConfirmTimeout <= 0 {
		c.ConfirmTimeout = 10 * time.Minute
	}
}

// suppress decides suppress_automations for one load: the configured value, else on
// for a first sync or --full (no synced snapshot to diff against) and a backfill.
func (c Config) suppress(firstOrFull, backfill bool) bool {
	if c.SuppressAutomations != nil {
		return *c.SuppressAutomations
	}
	return firstOrFull || backfill
}

// Options are the inputs of one load run.
type Options struct {
	In     string // transform folder
	Synced string // synced folder of the last load ("" = first sync, or --full)
	RunID  string
	DryRun bool // plan only: no request to AC
	Resume bool // skip the records the journal of this load folder has an outcome for
	Fields []schemas.ContactField
	Setup  *Setup // cached setup from state.json (may be nil)
	// Client is the AC client (nil with DryRun).
	Client *ac.Client
	// Progress, when set, hears after every journaled batch how many of the
	// changed records have an outcome (a progress bar on a terminal).
	Progress func(done, total int64)
	// Redact leaves emails out of errors.csv (schemas.ValidationError.RedactEmail).
	Redact bool
	// Backfill: the transform loaded is not this run's own (load --in another run):
	// historical data, sent with automations suppressed unless configured otherwise.
	Backfill bool
	// Confirm, when set, hears the plan's counts (contacts_update, ... as in the
	// report) once the diff is made and before any request to AC, setup included;
	// an error ends the load there, with nothing sent.
	Confirm func(plan map[string]int64) error
}

// Result is what the pipeline needs back: counts, and the setup to cache.
type Result struct {
	schemas.Report
	Setup *Setup
}

// Run plans and applies one load into out.
func Run(ctx context.Context, opts Options, cfg Config, out string) (Result, error) {
	cfg.defaults()
	var res Result
	// Both snapshots are streamed (see diff): the stage holds the changed rows and a
	// key → hash map, not the snapshots.
	contactsIn := func(dir string) source[schemas.Contact] {
		return fileSource(schemas.Contacts, filepath.Join(dir, ContactsFile+".parquet"), contactEntity.keyColumn, "row_hash", "deleted", "erased")
	}
	rpsIn := func(dir string) source[schemas.RecurringPayment] {
		return fileSource(schemas.RecurringPayments, filepath.Join(dir, RecurringPaymentsFile+".parquet"), rpEntity.keyColumn, "row_hash", "deleted")
	}
	curContacts, curRPs := contactsIn(opts.In), rpsIn(opts.In)
	var oldContacts source[schemas.Contact]
	var oldRPs source[schemas.RecurringPayment]
	if opts.Synced != "" {
		oldContacts, oldRPs = contactsIn(opts.Synced), rpsIn(opts.Synced)
	}
	rpDiff := func(old source[schemas.RecurringPayment]) (*Diff[schemas.RecurringPayment], error) {
		return diff(rpEntity, old, curRPs)
	}
	// The two entities share nothing: diffed side by side, one a core.
	var rd *Diff[schemas.RecurringPayment]
	var rpErr error
	rpDone := make(chan struct{})
	go func() {
		defer close(rpDone)
		rd, rpErr = rpDiff(oldRPs)
	}()
	cd, err := diff(contactEntity, oldContacts, curContacts)
	<-rpDone
	if err = cmp.Or(err, rpErr); err != nil {
		return res, fmt.Errorf("load: %w", err)
	}
	if opts.Confirm != nil {
		plan := map[string]int64{}
		for op, n := range counts(cd) {
			plan["contacts_"+op] = n
		}
		for op, n := range counts(rd) {
			plan["recurring_payments_"+op] = n
		}
		if err := opts.Confirm(plan); err != nil {
			return res, fmt.Errorf("load: %w", err)
		}
	}

	var setup *Setup
	if !opts.DryRun {
		if setup, err = EnsureSetup(ctx, opts.Client, opts.Setup, cfg, opts.Fields); err != nil {
			return res, fmt.Errorf("load: %w", err)
		}
		// A cached connection or field may have been deleted in AC since: checked on a
		// night that sends something (a clean night stays one request), and set up
		// again (found or created) when so.
		if setup == opts.Setup && len(cd.Changes)+len(rd.Changes) > 0 {
			why, err := setup.Stale(ctx, opts.Client)
			if err != nil {
				return res, fmt.Errorf("load: %w", err)
			}
			if why != "" { // e.g. "connection 3 no longer exists in ActiveCampaign"
				res.Add("setup_redone", 1)
				if setup, err = EnsureSetup(ctx, opts.Client, nil, cfg, opts.Fields); err != nil {
					return res, fmt.Errorf("load: %w", err)
				}
			}
		}
		// Recurring payments live in their connection: when it is not the one the
		// synced snapshot was sent to (deleted in AC, with them), every recurring
		// payment is new to AC again, so they are diffed against nothing.
		if opts.Setup != nil && setup.ConnectionID != opts.Setup.ConnectionID && !oldRPs.empty() {
			res.Add("connection_changed", 1)
			oldRPs = source[schemas.RecurringPayment]{}
			if rd, err = rpDiff(oldRPs); err != nil {
				return res, fmt.Errorf("load: %w", err)
			}
		}
	}
	// The plan and the synced snapshot say this run and when the extract behind
	// the transform started.
	in0, err := schemas.ReadStamp(filepath.Join(opts.In, ContactsFile+".parquet"))
	if err != nil {
		return res, fmt.Errorf("load: %w", err)
	}
	stamp := schemas.Stamp{RunID: opts.RunID, ExtractedAt: in0.ExtractedAt}
	if err := writePlan(out, stamp, cd, rd); err != nil {
		return res, fmt.Errorf("load: plan: %w", err)
	}
	for op, n := range counts(cd) {
		res.Add("contacts_"+op, n)
	}
	for op, n := range counts(rd) {
		res.Add("recurring_payments_"+op, n)
	}
	if opts.DryRun {
		return res, nil
	}
	res.Setup = setup
	connID, err := ac.ID(setup.ConnectionID).Int()
	if err != nil {
		return res, fmt.Errorf("load: connection id %q is not a number", setup.ConnectionID)
	}

	j, err := openJournal(filepath.Join(out, JournalFile), opts.Resume)
	if err != nil {
		return res, fmt.Errorf("load: %w", err)
	}
	defer j.Close()
	// Only now, with the plan written and about to be sent, are the changed rows
	// read: a plan (--dry-run) never holds them, and the creates are read as they
	// are sent (eachCreateWindow), but for those an earlier attempt left in AC's
	// hands (imports queued, batches sent), which a resume settles first.
	inFlight := map[string]bool{}
	for _, q := range append(slices.Clone(j.queued), j.sent...) {
		for _, k := range q.Keys {
			inFlight[q.Entity+"/"+k] = true
		}
	}
	if err := cd.load(contactEntity, oldContacts, curContacts, func(k string) bool { return inFlight[EntityContact+"/"+k] }); err != nil {
		return res, fmt.Errorf("load: %w", err)
	}
	if err := rd.load(rpEntity, oldRPs, curRPs, func(k string) bool { return inFlight[EntityRecurringPayment+"/"+k] }); err != nil {
		return res, fmt.Errorf("load: %w", err)
	}
	a := &applier{c: opts.Client, cfg: cfg, setup: setup, connID: connID, j: j, runID: opts.RunID, progress: opts.Progress,
		suppress: cfg.suppress(opts.Synced == "", opts.Backfill), curContacts: curContacts, curRPs: curRPs}
	if a.suppress {
		res.Add("automations_suppressed", 1)
	}
	for _, k := range []string{"create", "update", "delete"} {
		a.total += res.Counts["contacts_"+k] + res.Counts["recurring_payments_"+k]
	}
	a.replayFailures()
	before := opts.Client.Stats()
	applyErr := a.contacts(ctx, cd)
	if applyErr == nil {
		applyErr = a.recurringPayments(ctx, rd, cd)
	}
	after := opts.Client.Stats()
	res.Add("requests", after.Requests-before.Requests)
	res.Add("write_requests", after.Writes-before.Writes)
	res.Add("retries", after.Retries-before.Retries)
	res.Add("rejected", int64(len(a.errors)))
	res.Add("acknowledged", int64(len(j.acked)))
	if changed := len(cd.Changes); changed > 0 {
		res.Add("contact_requests_per_100_changed", (a.contactRequests*100)/int64(changed))
	}

	// The error rows are written even when apply stopped half way. The synced
	// snapshot is written only when it finished: until then the journal holds what
	// was acknowledged, and --resume carries on from there (a plain re-run diffs
	// against the last finished load, so it sends those records again).
	if opts.Redact {
		for i := range a.errors {
			a.errors[i].RedactEmail()
		}
	}
	if err := schemas.WriteCSV(filepath.Join(out, ErrorsFile), a.errors); err != nil {
		return res, errors.Join(applyErr, fmt.Errorf("load: %w", err))
	}
	if applyErr != nil {
		return res, fmt.Errorf("load: %w", applyErr)
	}
	// The synced snapshot says where each recurring payment lives in AC (the
	// connection it was sent to: transform cannot know it), and which AC contact is
	// each customer's: the id learned this load, else the one the last synced row
	// had; a contact this load deleted has none.
	patchRP := func(ch *Change[schemas.RecurringPayment], row *schemas.RecurringPayment) {
		id := connID
		row.LegacyConnectionID = &id
		// A create sent under its customer's old email and read again from the
		// transform file: its synced row says what was sent (an update's row is the
		// one sent, already so).
		if email, ok := a.underOld[ch.Key]; ok && ch.Op == OpCreate {
			row.Email, row.RowHash, row.FieldHashes = email, ^row.RowHash, nil
		}
	}
	patchContact := func(ch *Change[schemas.Contact], row *schemas.Contact) {
		row.ACContactID = nil
		if id, ok := j.ids[ch.Key]; ok {
			if n, err := id.Int(); err == nil && n > 0 {
				row.ACContactID = &n
			}
		} else if ch.Old != nil && ch.Old.ACContactID != nil {
			n := *ch.Old.ACContactID
			row.ACContactID = &n
		}
	}
	dir := filepath.Join(out, SyncedDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return res, fmt.Errorf("load: synced snapshot: %w", err)
	}
	err = writeSynced(schemas.Contacts, dir, ContactsFile, EntityContact, stamp, oldContacts, curContacts, cd, j.acked, contactKey, keepContactID, patchContact)
	if err == nil {
		err = writeSynced(schemas.RecurringPayments, dir, RecurringPaymentsFile, EntityRecurringPayment, stamp, oldRPs, curRPs, rd, j.acked, rpKey, nil, patchRP)
	}
	if err != nil {
		return res, fmt.Errorf("load: synced snapshot: %w", err)
	}
	return res, nil
}

// What diff needs to know of contacts and recurring payments.
var (
	contactEntity = entity[schemas.Contact]{name: EntityContact, key: contactKey,
		keyColumn: "customerId", columns: schemas.Contacts.PayloadColumns(),
		hash: func(c *schemas.Contact) uint64 { return c.RowHash }, gone: contactGone,
		fields: func(c *schemas.Contact) schemas.FieldHashes { return c.FieldHashes }}
	rpEntity = entity[schemas.RecurringPayment]{name: EntityRecurringPayment, key: rpKey,
		keyColumn: "storeRecurringPaymentId", columns: schemas.RecurringPayments.PayloadColumns(),
		hash:   func(r *schemas.RecurringPayment) uint64 { return r.RowHash },
		gone:   func(r *schemas.RecurringPayment) uint8 { return b2u(r.Deleted) },
		fields: func(r *schemas.RecurringPayment) schemas.FieldHashes { return r.FieldHashes }}
)

func contactKey(c *schemas.Contact) string     { return c.CustomerID }
func rpKey(r *schemas.RecurringPayment) string { return r.StoreRecurringPaymentID }

// keepContactID gives a carried row (deleted on both sides, nothing sent) the AC
// contact id of the synced row it replaces: transform rows have none.
func keepContactID(o, n *schemas.Contact) {
	if n.ACContactID == nil {
		n.ACContactID = o.ACContactID
	}
}

// writeSynced writes last synced + acknowledged changes, streaming the last synced
// snapshot once: an acknowledged key takes its new row, every other key keeps its
// old row (a failed create stays absent), so the next run sends exactly the records
// that did not get through. Keys missing from this transform (rejected by validate)
// stay as they were. The acknowledged creates follow, read again from the transform
// file (cur) by row number: apply dropped their rows once sent. carry (may be nil)
// gives a carried row what only the synced row knows; patch gives an acknowledged
// row what only load knows (its AC ids).
func writeSynced[T any](tb *schemas.Table[T], dir, name, entity string, st schemas.Stamp, old, cur source[T], d *Diff[T], acked map[string]bool, key func(*T) string, carry func(o, n *T), patch func(ch *Change[T], row *T)) error {
	s, err := tb.CreateSink(dir, name, false, st)
	if err != nil {
		return err
	}
	buf := make([]T, 0, schemas.BatchRows)
	emit := func(row *T) error {
		buf = append(buf, *row)
		if len(buf) < schemas.BatchRows {
			return nil
		}
		err := s.Write(buf...)
		buf = buf[:0]
		return err
	}
	if !old.empty() {
		err = old.each(func(o *T) error {
			k := key(o)
			if i, ok := d.changed[k]; ok && acked[entity+"/"+k] && d.Changes[i].New != nil {
				ch := &d.Changes[i]
				patch(ch, ch.New)
				return emit(ch.New)
			}
			if n := d.carry[k]; n != nil {
				if carry != nil {
					carry(o, n)
				}
				return emit(n)
			}
			return emit(o)
		})
	}
	creates := map[int]int{} // row of the transform file → its acknowledged create
	for i := range d.Changes {
		if ch := &d.Changes[i]; ch.Old == nil && acked[entity+"/"+ch.Key] {
			creates[ch.newRow] = i
		}
	}
	if err == nil && len(creates) > 0 {
		err = cur.pick(nil, func(r int) bool { _, ok := creates[r]; return ok }, func(r int, n *T) error {
			cur.detach(n) // buffered past its batch
			patch(&d.Changes[creates[r]], n)
			delete(creates, r)
			return emit(n)
		})
		for _, i := range creates {
			if err == nil {
				err = vanished(entity, d.Changes[i].Key)
			}
		}
	}
	if err == nil && len(buf) > 0 {
		err = s.Write(buf...)
	}
	if err != nil {
		s.Abort()
		return err
	}
	return s.Commit()
}

// journal is load/journal.jsonl: one fsynced line per acknowledged batch, one per
// bulk import AC has queued but not yet reported on, one per batch of recurring
// payments AC accepted but was not yet seen to hold, and one per contact created
// but not yet subscribed to the list. A resumed load skips every record the journal
// holds an outcome for, acknowledged or rejected, so no record is sent twice; a
// queued import is polled for its outcome and a sent batch confirmed instead of
// being sent again, and a created contact is only subscribed.
type journal struct {
	f      *os.File
	seq    int                    // lines so far: batch ids stay unique across attempts
	acked  map[string]bool        // entity/key AC acknowledged
	failed map[string]failedEntry // entity/key AC rejected, with the error row
	queued []journalEntry         // imports queued in AC whose outcome is not journaled
	sent   []journalEntry         // recurring payment batches AC accepted, not yet confirmed
	synced map[string]ac.ID       // contact key → AC id: created, not yet subscribed
	// ids: contact key → the AC contact id this load learned (created, found,
	// adopted), journaled so a resumed load addresses the same contacts.
	ids map[string]ac.ID
	// notes: entity/key settled without a write, with the error row saying why
	// (a delete whose contact belongs to another customer now); replayed on resume.
	notes map[string]failedEntry
}

// opQueued marks a line written when AC accepted a bulk import, before its outcome
// is known: the import runs for seconds, and a load killed meanwhile must not send
// those contacts again.
const opQueued = "queued"

// opSent marks a line written when AC accepted a batch of recurring payments (an
// asynchronous batch), before they are confirmed: every batch is sent before the
// first is confirmed, and a load killed meanwhile confirms those records on
// resume rather than sending them again. Keys await confirmation, Tails are the
// records the confirmation searches under confirm_recurring_payments: batch (the
// last of each request AC accepted), Failed the records AC rejected at once.
const opSent = "sent"

// opAdopted marks a line written when a contact change found its contact by email
// and checked it is the customer's (adopted), before the writes that address it by
// id: a load killed between the steps of an email swap resumes on the same contact
// rather than looking the old address up again.
const opAdopted = "adopted"

// opSynced marks a line written when contact/sync created a contact, before its
// list subscription (a second request): a load killed in between only subscribes
// it on resume, rather than syncing the same change again.
const opSynced = "synced"

type journalEntry struct {
	Batch  string        `json:"batch"`
	Entity string        `json:"entity"`
	Op     string        `json:"op"`
	Acked  []string      `json:"acked,omitempty"`
	Failed []failedEntry `json:"failed,omitempty"`
	// Notes are records settled (acknowledged) without a write, each with the error
	// row that says why; they are not sent again.
	Notes []failedEntry `json:"notes,omitempty"`
	// IDs are the AC contact ids learned for acknowledged contacts (key → id).
	IDs map[string]string `json:"ids,omitempty"`
	// Import and Keys are set on a "queued" line: AC accepted a bulk import of these
	// keys under this batchId, and its outcome is still to come.
	Import string   `json:"import,omitempty"`
	Keys   []string `json:"keys,omitempty"`
	// Tails is set on a "sent" line: the last record of each request AC accepted.
	Tails []string `json:"tails,omitempty"`
	// Contact is set on a "synced" or "adopted" line: the AC id of the contact
	// created or adopted for Keys[0].
	Contact string    `json:"contact,omitempty"`
	At      time.Time `json:"at"`
}

// failedEntry is a rejected record: enough to write its error row again on resume.
type failedEntry struct {
	Key        string `json:"key"`
	Code       string `json:"code,omitempty"`
	CustomerID string `json:"customer_id,omitempty"`
	Email      string `json:"email,omitempty"`
	Message    string `json:"message"`
}

func openJournal(path string, resume bool) (*journal, error) {
	j := &journal{acked: map[string]bool{}, failed: map[string]failedEntry{}, synced: map[string]ac.ID{},
		ids: map[string]ac.ID{}, notes: map[string]failedEntry{}}
	if resume {
		b, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("journal: %w", err)
		}
		// Cut a torn last line (killed mid-write): it is no acknowledgement, and the
		// next line appended after it would be torn too.
		if whole := bytes.LastIndexByte(b, '\n') + 1; whole < len(b) {
			if err := os.Truncate(path, int64(whole)); err != nil {
				return nil, fmt.Errorf("journal: %w", err)
			}
			b = b[:whole]
		}
		var queued, sent []journalEntry
		for _, line := range strings.Split(string(b), "\n") {
			var e journalEntry
			if line == "" || json.Unmarshal([]byte(line), &e) != nil {
				continue
			}
			j.seq++
			j.learn(e)
			if e.Op == opAdopted {
				continue
			}
			if e.Op == opQueued {
				queued = append(queued, e)
				continue
			}
			if e.Op == opSent {
				j.record(e) // its rejections
				sent = append(sent, e)
				continue
			}
			if e.Op == opSynced && len(e.Keys) == 1 {
				j.synced[e.Keys[0]] = ac.ID(e.Contact)
				continue
			}
			j.record(e)
		}
		for _, q := range queued {
			if j.open(q) {
				j.queued = append(j.queued, q)
			}
		}
		for _, q := range sent {
			if j.open(q) {
				j.sent = append(j.sent, q)
			}
		}
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if !resume {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j.f = f
	return j, nil
}

func (j *journal) record(e journalEntry) {
	for _, k := range e.Acked {
		j.acked[e.Entity+"/"+k] = true
	}
	for _, f := range e.Notes {
		j.acked[e.Entity+"/"+f.Key] = true
		j.notes[e.Entity+"/"+f.Key] = f
	}
	for _, f := range e.Failed {
		j.failed[e.Entity+"/"+f.Key] = f
	}
}

// learn keeps the contact ids a line names.
func (j *journal) learn(e journalEntry) {
	if (e.Op == opSynced || e.Op == opAdopted) && len(e.Keys) == 1 && e.Contact != "" {
		j.ids[e.Keys[0]] = ac.ID(e.Contact)
	}
	for k, id := range e.IDs {
		j.ids[k] = ac.ID(id)
	}
}

// open reports whether a queued import or a sent batch still has keys without an
// outcome.
func (j *journal) open(q journalEntry) bool {
	for _, k := range q.Keys {
		if !j.done(q.Entity, k) {
			return true
		}
	}
	return false
}

// done reports whether the journal holds an outcome for the record.
func (j *journal) done(entity, key string) bool {
	k := entity + "/" + key
	_, failed := j.failed[k]
	return j.acked[k] || failed
}

// nextID names a batch; the sequence runs on across attempts of one load.
func (j *journal) nextID(kind string) string {
	return fmt.Sprintf("%04d-%s", j.seq+1, kind)
}

func (j *journal) append(e journalEntry) error {
	e.At = time.Now().UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	j.seq++
	j.learn(e)
	if e.Op != opQueued && e.Op != opSynced && e.Op != opAdopted {
		j.record(e)
	}
	return nil
}

func (j *journal) Close() error { return j.f.Close() }

// contactGone ranks a contact row for the diff: 0 live, 1 deleted, 2 erased.
func contactGone(c *schemas.Contact) uint8 {
	switch {
	case c.Erased:
		return 2
	case c.Deleted:
		return 1
	}
	return 0
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
