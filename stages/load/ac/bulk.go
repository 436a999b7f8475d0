package ac

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cb2ac/cb2ac/schemas"
)

// Bulk import limits (AC help centre: at most 250 contacts and 400,000 bytes).
const (
	MaxImportContacts = 250
	MaxImportBytes    = 400_000
)

// ImportContact is one contact of a bulk import (snake_case keys, unlike contact/sync).
type ImportContact struct {
	Email              string        `json:"email"`
	FirstName          string        `json:"first_name,omitempty"`
	LastName           string        `json:"last_name,omitempty"`
	Phone              string        `json:"phone,omitempty"`
	CustomerAcctName   string        `json:"customer_acct_name,omitempty"`
	ExcludeAutomations bool          `json:"exclude_automations"`
	Fields             []ImportField `json:"fields,omitempty"`
	Subscribe          []ImportList  `json:"subscribe,omitempty"`
	Unsubscribe        []ImportList  `json:"unsubscribe,omitempty"`
}

// ImportField is a field value by numeric field id.
type ImportField struct {
	ID    json.Number `json:"id"`
	Value string      `json:"value"`
}

// ImportList names a list by numeric id.
type ImportList struct {
	ListID json.Number `json:"listid"`
}

// ImportSize is the JSON size a contact adds to a bulk import request; the caller
// packs batches under MaxImportBytes with it.
func ImportSize(ic ImportContact) int {
	b, _ := json.Marshal(ic)
	return len(b) + 1
}

// BulkImport queues contacts for import and returns the batch id. AC rejects the
// whole request when one contact is invalid.
func (c *Client) BulkImport(ctx context.Context, contacts []ImportContact) (string, error) {
	var out struct {
		Success json.RawMessage `json:"success"`
		BatchID string          `json:"batchId"`
		Message string          `json:"message"`
	}
	if err := c.do(ctx, "import/bulk_import", http.MethodPost, "/import/bulk_import", map[string]any{"contacts": contacts}, &out); err != nil {
		return "", err
	}
	if out.BatchID == "" {
		return "", &Error{Op: "import/bulk_import", Status: http.StatusOK, Message: "no batchId in the answer: " + out.Message}
	}
	return out.BatchID, nil
}

// ImportResult is a finished bulk import: ids of newly created contacts and the
// emails that failed.
type ImportResult struct {
	Status  string
	Created []string
	Failed  []string
}

// ImportEndedError is a bulk import AC accepted and then ended "failed" or
// "interrupted" (import/info) instead of completing: its contacts are not known to
// be imported, and are to be sent again (an import is an upsert by email).
type ImportEndedError struct {
	BatchID, Status string
}

func (e *ImportEndedError) Error() string {
	return fmt.Sprintf("activecampaign import/info: bulk import %s ended %s", e.BatchID, e.Status)
}

// ImportTimeoutError is a bulk import still not completed when the wait's deadline
// (activecampaign.import_timeout) passed: its contacts are not known to be
// imported, and are left to the next run.
type ImportTimeoutError struct {
	BatchID string
	Status  string // the last status AC reported ("" while it answered false)
	Waited  time.Duration
}

func (e *ImportTimeoutError) Error() string {
	st := e.Status
	if st == "" {
		st = "not started"
	}
	return fmt.Sprintf("activecampaign import/info: bulk import %s still %s after %s (activecampaign.import_timeout); its contacts are sent again next run", e.BatchID, st, e.Waited.Round(time.Second))
}

// IsImportUnknown reports that import/info refused the batch id (a 4xx other than
// throttling): AC does not know the import, so its contacts are to be sent again.
// What AC answers for an unknown batchId is UNVERIFIED; its reference only shows
// 400 {"message":"'batchId' is a required field."} for a missing one.
func IsImportUnknown(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Op == "import/info" && e.Status >= 400 && e.Status < 500 &&
		e.Status != http.StatusTooManyRequests && e.Status != http.StatusUnauthorized && e.Status != http.StatusForbidden
}

// WaitImport polls import/info until the batch is completed (or failed), for at
// most timeout (0 = no deadline). AC answers status false for about a second after
// queuing (AC's bulk-import-status reference), so the first poll waits; waiting,
// claimed and active mean "not yet".
func (c *Client) WaitImport(ctx context.Context, batchID string, poll, timeout time.Duration) (*ImportResult, error) {
	if poll <= 0 {
		poll = 2 * time.Second
	}
	start := time.Now()
	delay := poll
	last := ""
	for {
		if timeout > 0 {
			left := timeout - time.Since(start)
			if left <= 0 {
				return nil, &ImportTimeoutError{BatchID: batchID, Status: last, Waited: time.Since(start)}
			}
			delay = min(delay, left)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("activecampaign import %s: %w", batchID, ctx.Err())
		case <-t.C:
		}
		var out struct {
			Status  json.RawMessage `json:"status"`
			Success []ID            `json:"success"`
			Failure []string        `json:"failure"`
		}
		if err := c.do(ctx, "import/info", http.MethodGet, "/import/info?batchId="+url.QueryEscape(batchID), nil, &out); err != nil {
			return nil, err
		}
		var status string
		_ = json.Unmarshal(out.Status, &status) // false while AC is still queuing
		last = status
		switch status {
		case "completed":
			r := &ImportResult{Status: status, Failed: out.Failure}
			for _, id := range out.Success {
				r.Created = append(r.Created, string(id))
			}
			return r, nil
		case "failed", "interrupted":
			return nil, &ImportEndedError{BatchID: batchID, Status: status}
		}
		delay = min(delay*2, 30*time.Second)
	}
}

// graphQL posts one operation to /ecom/graphql. GraphQL errors come back in a 200
// answer; they become an *Error with Status 0: a rejection, unless a server-side
// code makes them transient (retried, then returned as a failure, see ServerSide).
func (c *Client) graphQL(ctx context.Context, op, query string, vars map[string]any, out any) error {
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors []ErrorItem     `json:"errors"`
	}
	// A query writes nothing: it is not counted as a write request.
	o := doOpts{read: strings.HasPrefix(strings.TrimSpace(query), "query")}
	// A server-side GraphQL error (INTERNAL_SERVER_ERROR and its kin) in a 200 is
	// the server failing, not the records: retried with backoff like a 5xx.
	o.check = func() error {
		if e := (&Error{Op: op, Errors: resp.Errors}); len(resp.Errors) > 0 && e.ServerSide() {
			resp.Data, resp.Errors = nil, nil // the next attempt decodes afresh
			return e
		}
		return nil
	}
	if err := c.doOpts(ctx, op, http.MethodPost, "/ecom/graphql", map[string]any{"query": query, "variables": vars}, &resp, o); err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		return &Error{Op: op, Errors: resp.Errors}
	}
	if out != nil {
		if err := json.Unmarshal(resp.Data, out); err != nil {
			return fmt.Errorf("activecampaign %s: bad data: %w", op, err)
		}
	}
	return nil
}

const upsertMutation = `mutation cb2acUpsert($recurringPayments: [RecurringPaymentInput!]!) {
  bulkUpsertRecurringPayments(recurringPayments: $recurringPayments) { recordId }
}`

// UpsertRecurringPayments sends one batch (async on AC's side) and returns its
// record id.
func (c *Client) UpsertRecurringPayments(ctx context.Context, connectionID int64, rps []schemas.RecurringPayment) (string, error) {
	inputs := make([]map[string]any, len(rps))
	for i := range rps {
		inputs[i] = RecurringPaymentInput(connectionID, &rps[i])
	}
	return c.UpsertRecurringPaymentInputs(ctx, inputs)
}

// UpsertRecurringPaymentInputs sends one batch of RecurringPaymentInput objects as
// they are: the caller may add explicit nulls, which clear a field in AC.
//
// The batch counts as accepted only when AC's answer says so: a non-null
// bulkUpsertRecurringPayments with a recordId. A 200 without one (null, no data,
// an empty id) is a *NotAcknowledgedError: nothing says AC took the write.
func (c *Client) UpsertRecurringPaymentInputs(ctx context.Context, inputs []map[string]any) (string, error) {
	const op = "bulkUpsertRecurringPayments"
	var out struct {
		Bulk *struct {
			RecordID ID `json:"recordId"`
		} `json:"bulkUpsertRecurringPayments"`
	}
	if err := c.graphQL(ctx, op, upsertMutation, map[string]any{"recurringPayments": inputs}, &out); err != nil {
		return "", err
	}
	switch {
	case out.Bulk == nil:
		return "", &NotAcknowledgedError{Op: op, Detail: "the answer's bulkUpsertRecurringPayments is null"}
	case out.Bulk.RecordID == "":
		return "", &NotAcknowledgedError{Op: op, Detail: "the answer holds no recordId"}
	}
	return string(out.Bulk.RecordID), nil
}

// NotAcknowledgedError is a write AC answered with success (HTTP 200, no errors)
// but without the result that confirms it (a null result, no record id): the write
// is not known to have reached AC, so it does not count as done.
type NotAcknowledgedError struct {
	Op, Detail string
}

func (e *NotAcknowledgedError) Error() string {
	return fmt.Sprintf("activecampaign %s: not acknowledged: %s", e.Op, e.Detail)
}

// UpsertResult is what AC answers a bulkUpsertRecurringPayments with: the id of an
// asynchronous batch (BulkAsync.recordId). AC's reference documents no query for a
// batch's status, so the records' arrival is confirmed by searching for them.
type UpsertResult struct{ RecordID string }

// RecurringPaymentInput turns a transform row into the GraphQL input: null columns
// are left out, amounts go as decimal strings (BigDecimal), and cb2ac's own columns
// (deleted, row_hash) are not sent.
func RecurringPaymentInput(connectionID int64, rp *schemas.RecurringPayment) map[string]any {
	b, _ := json.Marshal(rp)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	delete(m, "deleted")
	delete(m, "row_hash")
	m["legacyConnectionId"] = connectionID
	for k, v := range m {
		switch x := v.(type) {
		case nil:
			delete(m, k)
		case []any:
			if len(x) == 0 {
				delete(m, k)
			}
		case string:
			if x == "" {
				delete(m, k)
			}
		}
	}
	// Required by the contract even when empty.
	m["storeRecurringPaymentId"] = rp.StoreRecurringPaymentID
	return m
}

// RecurringPayment is what searchRecurringPayment returns (the fields verify
// compares).
type RecurringPayment map[string]any

var searchFields = strings.Join([]string{
	"legacyConnectionId", "storeRecurringPaymentId", "email", "normalizedStatus", "storeStatus",
	"storeCustomerId", "billingInterval", "billingIntervalCount", "paymentAmount", "discountAmount",
	"taxAmount", "shippingAmount", "lastPaymentStatus", "lastPaymentDate", "startDate", "renewalDate",
	"nextPaymentDate", "anchorDate", "cancelledDate", "paymentMethodExpiration", "currency",
	"storeCreatedDate", "storeModifiedDate", "isTrial", "cancelAtPeriodEnd", "totalCycles",
	"storeExternalId", "notes", "lineItemNames", "lineItemSkus", "lineItemCategories",
	"lineItemBrands", "lineItemTags", "lineItemStorePrimaryIds",
}, " ")

// SearchFields are the fields SearchRecurringPayments asks for (the scalar and list
// fields of AC's searchRecurringPayment example).
func SearchFields() []string { return strings.Fields(searchFields) }

// searchQuery is the searchRecurringPayment text: by storeRecurringPaymentId ($id),
// and by legacyConnectionId ($conn) too when byConnection.
func searchQuery(byConnection bool) string {
	filter := `{storeRecurringPaymentId: {value: $id, filterOperator: EQ}}`
	params := `$id: String!`
	if byConnection {
		filter = `{legacyConnectionId: {value: $conn, filterOperator: EQ}, storeRecurringPaymentId: {value: $id, filterOperator: EQ}}`
		params = `$conn: Int!, $id: String!`
	}
	return `query cb2acSearch(` + params + `) {
  searchRecurringPayment(filter: ` + filter + `) { ` + searchFields + ` }
}`
}

// SearchRecurringPayments finds the recurring payments of one connection with this
// storeRecurringPaymentId (the composite key; both are RecurringPaymentFilter
// attributes in AC's reference). connectionID 0 searches every connection.
func (c *Client) SearchRecurringPayments(ctx context.Context, connectionID int64, storeID string) ([]RecurringPayment, error) {
	vars := map[string]any{"id": storeID}
	if connectionID != 0 {
		vars["conn"] = connectionID
	}
	q := searchQuery(connectionID != 0)
	var out struct {
		Search []RecurringPayment `json:"searchRecurringPayment"`
	}
	err := c.graphQL(ctx, "searchRecurringPayment", q, vars, &out)
	if err != nil || connectionID == 0 {
		return out.Search, err
	}
	// Filter again here: a search that ignored the connection must not make
	// another store's record count as ours.
	var mine []RecurringPayment
	for _, rp := range out.Search {
		if fmt.Sprint(rp["legacyConnectionId"]) == strconv.FormatInt(connectionID, 10) {
			mine = append(mine, rp)
		}
	}
	return mine, nil
}
