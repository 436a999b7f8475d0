package load

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/load/ac"
)

// Setup is what load needs to know about the AC account: cached in state.json.
type Setup struct {
	APIURL       string `json:"api_url"`
	ListID       string `json:"list_id"`
	ListName     string `json:"list_name,omitempty"`
	ConnectionID string `json:"connection_id"`
	// ConnectionExternalID is the externalid the connection was found or made
	// under: the Chargebee site ("" in a setup cached before it was kept).
	ConnectionExternalID string            `json:"connection_externalid,omitempty"`
	Fields               map[string]string `json:"fields"` // configured title → AC field id
	// FieldPrefix is the field_prefix the fields were resolved with.
	FieldPrefix string `json:"field_prefix,omitempty"`
}

// ErrListMissing says the configured list is not in AC: the user must create it.
var ErrListMissing = errors.New("list not found")

// covers reports whether a cached setup still fits the config. A setup cached for
// another site's connection (or before the site was kept) does not, unless no
// site is known to this load at all: then the cached connection is the one to use.
func (s *Setup) covers(cfg Config, fields []schemas.ContactField) bool {
	apiURL, list, prefix := cfg.APIURL, cfg.List, cfg.FieldPrefix
	if s == nil || s.APIURL != apiURL || s.ConnectionID == "" || s.ListID == "" || s.FieldPrefix != prefix {
		return false
	}
	if cfg.Site != "" && s.ConnectionExternalID != cfg.ConnectionExternalID() {
		return false
	}
	if list != s.ListID && !strings.EqualFold(list, s.ListName) {
		return false
	}
	for _, f := range fields {
		if s.Fields[f.Title] == "" {
			return false
		}
	}
	return true
}

// EnsureSetup checks the token, then resolves the list, the Deep Data connection and
// the custom fields, creating only what is missing. A cached setup that still fits
// the config costs one request (the token check).
func EnsureSetup(ctx context.Context, c *ac.Client, cached *Setup, cfg Config, fields []schemas.ContactField) (*Setup, error) {
	if err := c.CheckToken(ctx); err != nil {
		return nil, err
	}
	if cached.covers(cfg, fields) {
		return cached, nil
	}
	list, err := c.FindList(ctx, cfg.List)
	if err != nil {
		return nil, fmt.Errorf("find list %q: %w", cfg.List, err)
	}
	if list == nil {
		return nil, listMissing(cfg.List)
	}
	s := &Setup{APIURL: cfg.APIURL, ListID: string(list.ID), ListName: list.Name, Fields: map[string]string{}, FieldPrefix: cfg.FieldPrefix}
	conn, err := ensureConnection(ctx, c, cfg, string(list.ID))
	if err != nil {
		return nil, fmt.Errorf("deep data connection: %w", err)
	}
	s.ConnectionID, s.ConnectionExternalID = string(conn.ID), conn.ExternalID
	if err := ensureFields(ctx, c, s, fields); err != nil {
		return nil, err
	}
	return s, nil
}

// connectionService is the service every cb2ac connection is made under; the
// externalid names the Chargebee site.
const connectionService = "cb2ac"

// ensureConnection finds this site's connection (service cb2ac, externalid the
// site) or makes it. A connection cb2ac made before it named every site (under
// LegacyConnectionExternalID) is adopted instead: renamed to the site's externalid
// (PUT /connections/{id}), so its recurring payments stay where they are and the
// next site that looks for the old name finds none and gets a connection of its
// own. Never a second connection for one site.
func ensureConnection(ctx context.Context, c *ac.Client, cfg Config, listID string) (*ac.Connection, error) {
	ext, legacy := cfg.ConnectionExternalID(), cfg.LegacyConnectionExternalID()
	if ext != legacy {
		found, err := c.FindConnection(ctx, connectionService, ext)
		if err != nil || found != nil {
			return found, err
		}
		old, err := c.FindConnection(ctx, connectionService, legacy)
		if err != nil {
			return nil, err
		}
		if old != nil {
			renamed, err := c.RenameConnection(ctx, old.ID, ext)
			if err != nil {
				return nil, fmt.Errorf("adopt connection %s (externalid %q) as %q: %w", old.ID, legacy, ext, err)
			}
			renamed.ExternalID = ext
			return renamed, nil
		}
	}
	conn, err := c.EnsureConnection(ctx, ac.Connection{
		Service: connectionService, ExternalID: ext, Name: "Chargebee (cb2ac)",
		LogoURL: "https://www.chargebee.com/favicon.ico", LinkURL: "https://github.com/cb2ac/cb2ac", ListID: listID,
	})
	if err != nil {
		return nil, err
	}
	if conn.ExternalID == "" {
		conn.ExternalID = ext
	}
	return conn, nil
}

// Stale reports why a cached setup no longer holds in AC, or "" when it does: its
// connection answers 404 (deleted in AC, with its recurring payments), or one of its
// fields is gone from AC or no longer attached to the list. Two reads (the
// connection, the field list); the loader asks only on a night that sends something.
func (s *Setup) Stale(ctx context.Context, c *ac.Client) (string, error) {
	ok, err := c.ConnectionExists(ctx, ac.ID(s.ConnectionID))
	if err != nil {
		return "", fmt.Errorf("check the cached connection %s: %w", s.ConnectionID, err)
	}
	if !ok {
		return fmt.Sprintf("connection %s no longer exists in ActiveCampaign", s.ConnectionID), nil
	}
	existing, rels, err := c.Fields(ctx)
	if err != nil {
		return "", fmt.Errorf("check the cached custom fields: %w", err)
	}
	have, attached := map[string]bool{}, map[string]bool{}
	for _, f := range existing {
		have[string(f.ID)] = true
	}
	for _, r := range rels {
		if string(r.Relid) == s.ListID || r.Relid == "0" {
			attached[string(r.Field)] = true
		}
	}
	titles := make([]string, 0, len(s.Fields))
	for t := range s.Fields {
		titles = append(titles, t)
	}
	sort.Strings(titles)
	for _, t := range titles {
		id := s.Fields[t]
		if !have[id] {
			return fmt.Sprintf("custom field %q (id %s) no longer exists in ActiveCampaign", t, id), nil
		}
		if !attached[id] {
			return fmt.Sprintf("custom field %q (id %s) is no longer attached to the list", t, id), nil
		}
	}
	return "", nil
}

// CheckSetup is EnsureSetup's read-only twin, for `cb2ac check`: it proves the
// token, finds the list, and reads the custom fields, and returns one error per
// problem, creating and attaching nothing. A field that is missing is no problem
// (setup creates it); one whose title or perstag is taken by a field of another
// type is. When the token is refused nothing else is asked.
func CheckSetup(ctx context.Context, c *ac.Client, cfg Config, fields []schemas.ContactField) (list *ac.List, create int, problems []error) {
	cfg.defaults()
	if err := c.CheckToken(ctx); err != nil {
		return nil, 0, []error{err}
	}
	list, err := c.FindList(ctx, cfg.List)
	switch {
	case err != nil:
		problems = append(problems, fmt.Errorf("find list %q: %w", cfg.List, err))
	case list == nil:
		problems = append(problems, listMissing(cfg.List))
	}
	existing, _, err := c.Fields(ctx)
	if err != nil {
		return list, 0, append(problems, fmt.Errorf("custom fields: %w", err))
	}
	byTitle, byTag := indexFields(existing)
	for _, f := range fields {
		title, typ := cfg.FieldPrefix+f.Title, fieldType(f.Type)
		got, ok := lookupField(byTitle, byTag, title, f.Perstag)
		if !ok {
			create++
			continue
		}
		if !fits(typ, got.Type) {
			problems = append(problems, fieldTypeError(got, typ))
		}
	}
	return list, create, problems
}

func listMissing(name string) error {
	return fmt.Errorf("%w: ActiveCampaign has no list %q; create it in AC (Contacts → Lists → Add a list) or set activecampaign.list", ErrListMissing, name)
}

func indexFields(existing []ac.Field) (byTitle, byTag map[string]ac.Field) {
	byTitle, byTag = map[string]ac.Field{}, map[string]ac.Field{}
	for _, f := range existing {
		byTitle[strings.ToLower(f.Title)] = f
		if f.Perstag != "" {
			byTag[strings.ToUpper(f.Perstag)] = f
		}
	}
	return byTitle, byTag
}

// lookupField finds a field by title, ignoring case as AC's own duplicate check
// does, else by perstag.
func lookupField(byTitle, byTag map[string]ac.Field, title, perstag string) (ac.Field, bool) {
	got, ok := byTitle[strings.ToLower(title)]
	if !ok && perstag != "" {
		got, ok = byTag[strings.ToUpper(perstag)]
	}
	return got, ok
}

func fieldTypeError(got ac.Field, typ string) error {
	return fmt.Errorf("%w: ActiveCampaign already has a field %q (id %s) of type %s, and cb2ac would write %s values into it; rename or delete that field in AC, or set activecampaign.field_prefix so cb2ac uses its own titles", ErrFieldType, got.Title, got.ID, got.Type, typ)
}

// ErrFieldType says an existing AC field has the title (or perstag) of one of
// cb2ac's fields but a type cb2ac's values do not fit.
var ErrFieldType = errors.New("custom field type mismatch")

// fits reports whether values written for a field of type want can go into an
// existing field of type got. Text goes into any free-text field; every other type
// only into its own (a date value into a dropdown, or text into a date field,
// would be refused or mangled by AC).
func fits(want, got string) bool {
	want, got = strings.ToLower(want), strings.ToLower(got)
	if want == got {
		return true
	}
	return want == "text" && (got == "textarea" || got == "hidden")
}

func ensureFields(ctx context.Context, c *ac.Client, s *Setup, want []schemas.ContactField) error {
	var byTitle, byTag map[string]ac.Field
	attached := map[string]bool{}
	reload := func() error {
		existing, rels, err := c.Fields(ctx)
		if err != nil {
			return fmt.Errorf("custom fields: %w", err)
		}
		byTitle, byTag = indexFields(existing)
		for _, r := range rels {
			if string(r.Relid) == s.ListID || r.Relid == "0" {
				attached[string(r.Field)] = true
			}
		}
		return nil
	}
	if err := reload(); err != nil {
		return err
	}
	for _, f := range want {
		title := s.FieldPrefix + f.Title
		typ := fieldType(f.Type)
		lookup := func() (ac.Field, bool) { return lookupField(byTitle, byTag, title, f.Perstag) }
		got, ok := lookup()
		for attempt := 1; !ok; attempt++ {
			created, err := c.CreateField(ctx, ac.Field{Title: title, Type: typ, Perstag: f.Perstag, Descript: "Filled by cb2ac from Chargebee"})
			if err == nil {
				got, ok = *created, true
				break
			}
			var e *ac.Error
			var amb *ac.AmbiguousError
			switch {
			case errors.As(err, &e) && (e.HasCode("duplicate") || e.HasCode("field_invalid")):
				// Someone created it meanwhile, or it differs only in case: adopt it.
				if err := reload(); err != nil {
					return err
				}
				if got, ok = lookup(); !ok {
					return fmt.Errorf("custom field %q: AC says it exists but it is not in the field list: %w", title, e)
				}
			case errors.As(err, &amb) && attempt < c.MaxAttempts():
				// AC may have created it before the answer was lost: look before
				// creating again (POST /fields is not idempotent).
				if err := c.Backoff(ctx, attempt); err != nil {
					return err
				}
				if err := reload(); err != nil {
					return err
				}
				got, ok = lookup()
			default:
				return fmt.Errorf("custom field %q: %w", title, err)
			}
		}
		if !fits(typ, got.Type) {
			return fieldTypeError(got, typ)
		}
		if !attached[string(got.ID)] {
			if err := c.AttachField(ctx, got.ID, ac.ID(s.ListID)); err != nil {
				return fmt.Errorf("attach field %q to the list: %w", title, err)
			}
			attached[string(got.ID)] = true
		}
		s.Fields[f.Title] = string(got.ID)
	}
	return nil
}

func fieldType(t string) string {
	if t == "" {
		return "text"
	}
	return t
}
