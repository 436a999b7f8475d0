package ac

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// CheckToken proves the token works (AC answers a bad one with 403).
func (c *Client) CheckToken(ctx context.Context) error {
	var out struct {
		User struct {
			ID ID `json:"id"`
		} `json:"user"`
	}
	if err := c.do(ctx, "users/me", http.MethodGet, "/users/me", nil, &out); err != nil {
		var e *Error
		if errors.As(err, &e) && e.Status == http.StatusForbidden {
			return fmt.Errorf("activecampaign: the API token was refused (403); copy it again from AC Settings → Developer: %w", err)
		}
		return err
	}
	return nil
}

// List is an AC list.
type List struct {
	ID       ID     `json:"id"`
	Name     string `json:"name"`
	StringID string `json:"stringid"`
}

// FindList finds a list by id, name or stringid. It returns (nil, nil) when none
// matches: cb2ac never creates the list, the user does.
func (c *Client) FindList(ctx context.Context, nameOrID string) (*List, error) {
	if _, err := strconv.Atoi(nameOrID); err == nil {
		var out struct {
			List List `json:"list"`
		}
		err := c.do(ctx, "lists/get", http.MethodGet, "/lists/"+nameOrID, nil, &out)
		if err == nil {
			return &out.List, nil
		}
		if !IsNotFound(err) {
			return nil, err
		}
	}
	// filters[name] is exact; a stringid filter is UNVERIFIED, so a stringid or a
	// name in another case is matched here, over every list.
	for _, path := range []string{"/lists?filters[name]=" + url.QueryEscape(nameOrID), "/lists"} {
		var exact, folded *List
		err := c.paginate(ctx, "lists", path, func(raw pageOf) (int, error) {
			for i := range raw.Lists {
				l := raw.Lists[i]
				switch {
				case exact == nil && (l.Name == nameOrID || l.StringID == nameOrID):
					exact = &l
				case folded == nil && strings.EqualFold(l.Name, nameOrID):
					folded = &l
				}
			}
			return len(raw.Lists), nil
		})
		if err != nil {
			return nil, err
		}
		if exact != nil {
			return exact, nil
		}
		if folded != nil {
			return folded, nil
		}
	}
	return nil, nil
}

type pageOf struct {
	Lists       []List          `json:"lists"`
	Fields      []Field         `json:"fields"`
	Connections []Connection    `json:"connections"`
	Contacts    []contactRecord `json:"contacts"`
	FieldRels   []FieldRel      `json:"fieldRels"`
	Meta        struct {
		Total ID `json:"total"`
	} `json:"meta"`
}

// paginate walks limit/offset pages of 100 until a short page or meta.total.
func (c *Client) paginate(ctx context.Context, op, path string, fn func(pageOf) (int, error)) error {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	for offset := 0; ; offset += 100 {
		var page pageOf
		if err := c.do(ctx, op, http.MethodGet, fmt.Sprintf("%s%slimit=100&offset=%d", path, sep, offset), nil, &page); err != nil {
			return err
		}
		n, err := fn(page)
		if err != nil {
			return err
		}
		total, _ := strconv.Atoi(string(page.Meta.Total))
		if n < 100 || (total > 0 && offset+n >= total) {
			return nil
		}
	}
}

// Connection is a Deep Data connection; its id is the recurring payments'
// legacyConnectionId.
type Connection struct {
	ID         ID     `json:"id,omitempty"`
	Service    string `json:"service"`
	ExternalID string `json:"externalid"`
	Name       string `json:"name"`
	LogoURL    string `json:"logoUrl"`
	LinkURL    string `json:"linkUrl"`
	ListID     string `json:"listId,omitempty"`
}

// EnsureConnection finds the connection by (service, externalid) or creates it.
// Looking first matters: POST /connections is not idempotent (AC reference: a
// retried POST may duplicate). A create whose outcome is unknown (a timeout, a 5xx)
// is never sent again blind: cb2ac looks for the connection again first, so a
// create AC did apply is adopted instead of duplicated.
func (c *Client) EnsureConnection(ctx context.Context, want Connection) (*Connection, error) {
	for attempt := 1; ; attempt++ {
		found, err := c.findConnection(ctx, want)
		if err != nil || found != nil {
			return found, err
		}
		var out struct {
			Connection Connection `json:"connection"`
		}
		err = c.doOpts(ctx, "connections/create", http.MethodPost, "/connections", map[string]any{"connection": want}, &out, doOpts{noReplay: true})
		var amb *AmbiguousError
		if errors.As(err, &amb) && attempt < c.cfg.MaxAttempts {
			if err := c.backoff(ctx, attempt); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		return &out.Connection, nil
	}
}

// RenameConnection gives the connection with this id another externalid (PUT
// /connections/{id}, AC reference "Update a connection"): how a connection made
// under an older externalid is adopted by the site it belongs to.
func (c *Client) RenameConnection(ctx context.Context, id ID, externalID string) (*Connection, error) {
	var out struct {
		Connection Connection `json:"connection"`
	}
	body := map[string]any{"connection": map[string]any{"externalid": externalID}}
	if err := c.do(ctx, "connections/update", http.MethodPut, "/connections/"+url.PathEscape(string(id)), body, &out); err != nil {
		return nil, err
	}
	if out.Connection.ID == "" {
		out.Connection.ID = id
	}
	return &out.Connection, nil
}

// FindConnection finds the connection with this service and externalid, or nil.
func (c *Client) FindConnection(ctx context.Context, service, externalID string) (*Connection, error) {
	return c.findConnection(ctx, Connection{Service: service, ExternalID: externalID})
}

// ConnectionExists reports whether AC still has the connection with this id
// (GET /connections/{id}: 404 when it was deleted).
func (c *Client) ConnectionExists(ctx context.Context, id ID) (bool, error) {
	var out struct {
		Connection Connection `json:"connection"`
	}
	err := c.do(ctx, "connections/get", http.MethodGet, "/connections/"+url.PathEscape(string(id)), nil, &out)
	if IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return out.Connection.ID == "" || out.Connection.ID == id, nil
}

func (c *Client) findConnection(ctx context.Context, want Connection) (*Connection, error) {
	var found *Connection
	path := "/connections?filters[service]=" + url.QueryEscape(want.Service) + "&filters[externalid]=" + url.QueryEscape(want.ExternalID)
	err := c.paginate(ctx, "connections", path, func(p pageOf) (int, error) {
		for i := range p.Connections {
			if p.Connections[i].Service == want.Service && p.Connections[i].ExternalID == want.ExternalID && found == nil {
				cn := p.Connections[i]
				found = &cn
			}
		}
		return len(p.Connections), nil
	})
	return found, err
}

// backoff waits before the next attempt of a create (full jitter, like do).
func (c *Client) backoff(ctx context.Context, attempt int) error {
	c.retries.Add(1)
	ceiling := c.cfg.BaseBackoff << (attempt - 1)
	t := time.NewTimer(min(time.Duration(rand.Int64N(int64(ceiling))+1), c.cfg.MaxWait))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Backoff waits before attempt+1 of a create the caller retries itself.
func (c *Client) Backoff(ctx context.Context, attempt int) error { return c.backoff(ctx, attempt) }

// MaxAttempts is the configured number of tries of one request.
func (c *Client) MaxAttempts() int { return c.cfg.MaxAttempts }

// Field is a custom contact field.
type Field struct {
	ID        ID     `json:"id,omitempty"`
	Title     string `json:"title"`
	Type      string `json:"type"`
	Perstag   string `json:"perstag,omitempty"`
	Descript  string `json:"descript,omitempty"`
	Visible   ID     `json:"visible,omitempty"` // AC answers "1", a string
	Relations []ID   `json:"relations,omitempty"`
}

// FieldRel links a field to a list (Relid "0" = all lists).
type FieldRel struct {
	Field ID `json:"field"`
	Relid ID `json:"relid"`
}

// Fields lists every custom field and the field-to-list links.
func (c *Client) Fields(ctx context.Context) ([]Field, []FieldRel, error) {
	var out []Field
	var rels []FieldRel
	err := c.paginate(ctx, "fields", "/fields", func(p pageOf) (int, error) {
		out = append(out, p.Fields...)
		rels = append(rels, p.FieldRels...)
		return len(p.Fields), nil
	})
	return out, rels, err
}

// CreateField creates a field. AC answers a duplicate title or perstag with a 422
// (codes duplicate / field_invalid); the caller adopts the existing field.
func (c *Client) CreateField(ctx context.Context, f Field) (*Field, error) {
	// The documented create body sends visible as the number 1; the outer field
	// shadows Field.Visible when encoded.
	body := struct {
		Field
		Visible int `json:"visible"`
	}{Field: f, Visible: 1}
	var out struct {
		Field  *Field  `json:"field"`
		Fields []Field `json:"fields"` // the documented (list-shaped) 201 body
	}
	// Not replayed blind: an *AmbiguousError tells the caller to look at the field
	// list before creating again (POST /fields is not idempotent).
	if err := c.doOpts(ctx, "fields/create", http.MethodPost, "/fields", map[string]any{"field": body}, &out, doOpts{noReplay: true}); err != nil {
		return nil, err
	}
	if out.Field != nil && out.Field.ID != "" {
		return out.Field, nil
	}
	for i := range out.Fields {
		if strings.EqualFold(out.Fields[i].Title, f.Title) {
			return &out.Fields[i], nil
		}
	}
	return nil, fmt.Errorf("activecampaign fields/create: the answer holds no field titled %q", f.Title)
}

// AttachField links a field to a list (relid 0 would mean all lists).
func (c *Client) AttachField(ctx context.Context, fieldID, listID ID) error {
	body := map[string]any{"fieldRel": map[string]any{"field": string(fieldID), "relid": string(listID)}}
	return c.do(ctx, "fieldRels/create", http.MethodPost, "/fieldRels", body, nil)
}

// FieldValue is one custom field value in a contact write.
type FieldValue struct {
	Field ID     `json:"field"`
	Value string `json:"value"`
}

// Contact is an AC contact as contact/sync and PUT /contacts/{id} take it. A name,
// phone, company (orgname) or field value is sent when it is not empty; an empty one
// is sent only when its attribute is named in Clear (cb2ac's rule: a value it sent
// before and Chargebee no longer has is cleared, a value it never had is left to
// whatever AC holds).
type Contact struct {
	ID          ID           `json:"id,omitempty"`
	Email       string       `json:"email"`
	FirstName   string       `json:"firstName,omitempty"`
	LastName    string       `json:"lastName,omitempty"`
	Phone       string       `json:"phone,omitempty"`
	Orgname     string       `json:"orgname,omitempty"`
	FieldValues []FieldValue `json:"fieldValues,omitempty"`
	// Clear lists attributes (firstName, lastName, phone, orgname) sent as "".
	Clear []string `json:"-"`
}

// MarshalJSON adds the cleared attributes as "".
func (ct Contact) MarshalJSON() ([]byte, error) {
	type plain Contact
	b, err := json.Marshal(plain(ct))
	if err != nil || len(ct.Clear) == 0 {
		return b, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for _, k := range ct.Clear {
		if v, _ := m[k].(string); v == "" {
			m[k] = ""
		}
	}
	return json.Marshal(m)
}

// contactRecord is a contact as AC answers it: there fieldValues is a list of
// ids (or links), not the {field,value} pairs a request sends, so it is not read.
type contactRecord struct {
	ID        ID     `json:"id"`
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Phone     string `json:"phone"`
}

// SyncContact creates or updates a contact by email and returns its id.
func (c *Client) SyncContact(ctx context.Context, ct Contact) (ID, error) {
	ct.ID = ""
	var out struct {
		Contact contactRecord `json:"contact"`
	}
	if err := c.do(ctx, "contact/sync", http.MethodPost, "/contact/sync", map[string]any{"contact": ct}, &out); err != nil {
		return "", err
	}
	return out.Contact.ID, nil
}

// UpdateContact updates the contact with this id: the way to change an email
// without leaving a second contact behind.
func (c *Client) UpdateContact(ctx context.Context, id ID, ct Contact) error {
	ct.ID = ""
	return c.do(ctx, "contacts/update", http.MethodPut, "/contacts/"+url.PathEscape(string(id)), map[string]any{"contact": ct}, nil)
}

// FindContact returns the contact with this email, or nil.
func (c *Client) FindContact(ctx context.Context, email string) (*Contact, error) {
	var out pageOf
	if err := c.do(ctx, "contacts/search", http.MethodGet, "/contacts?email="+url.QueryEscape(email), nil, &out); err != nil {
		return nil, err
	}
	for i := range out.Contacts {
		if r := out.Contacts[i]; strings.EqualFold(r.Email, email) {
			return &Contact{ID: r.ID, Email: r.Email, FirstName: r.FirstName, LastName: r.LastName, Phone: r.Phone}, nil
		}
	}
	return nil, nil
}

// ContactFieldValue reads one custom field of the contact with this id (GET
// /contacts/{id}/fieldValues): its value ("" when the contact has none), and
// exists=false when AC has no contact with this id (404).
func (c *Client) ContactFieldValue(ctx context.Context, id, field ID) (value string, exists bool, err error) {
	var out struct {
		FieldValues []struct {
			Field ID     `json:"field"`
			Value string `json:"value"`
		} `json:"fieldValues"`
	}
	err = c.do(ctx, "contacts/fieldValues", http.MethodGet, "/contacts/"+url.PathEscape(string(id))+"/fieldValues", nil, &out)
	if IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	for _, fv := range out.FieldValues {
		if fv.Field == field {
			return fv.Value, true, nil
		}
	}
	return "", true, nil
}

// DeleteContact deletes a contact; an already deleted one is not an error.
func (c *Client) DeleteContact(ctx context.Context, id ID) error {
	err := c.do(ctx, "contacts/delete", http.MethodDelete, "/contacts/"+url.PathEscape(string(id)), nil, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// List statuses of contactLists (AC: 0 unconfirmed, 1 active, 2 unsubscribed, 3
// bounced), and NotOnList for a contact with no membership of the list.
const (
	NotOnList    = -1
	Unconfirmed  = 0
	Subscribed   = 1
	Unsubscribed = 2
	Bounced      = 3
)

// ListStatus is the contact's status on the list (0–3), or NotOnList.
func (c *Client) ListStatus(ctx context.Context, contactID, listID ID) (int, error) {
	var out struct {
		ContactLists []struct {
			List   ID `json:"list"`
			Status ID `json:"status"` // a number or a string, by endpoint
		} `json:"contactLists"`
	}
	if err := c.do(ctx, "contacts/contactLists", http.MethodGet, "/contacts/"+url.PathEscape(string(contactID))+"/contactLists", nil, &out); err != nil {
		return 0, err
	}
	for _, cl := range out.ContactLists {
		if cl.List == listID {
			n, err := cl.Status.Int()
			if err != nil {
				return 0, fmt.Errorf("activecampaign contacts/contactLists: status %q is not a number", cl.Status)
			}
			return int(n), nil
		}
	}
	return NotOnList, nil
}

// SetListStatus subscribes (1) or unsubscribes (2) a contact.
func (c *Client) SetListStatus(ctx context.Context, contactID, listID ID, status int) error {
	body := map[string]any{"contactList": map[string]any{"list": string(listID), "contact": string(contactID), "status": status}}
	return c.do(ctx, "contactLists", http.MethodPost, "/contactLists", body, nil)
}
