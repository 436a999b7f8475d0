package load

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/load/ac"
)

// Setup is what load needs to know about the AC account: cached in state.json.
type Setup struct {
	APIURL       string            `json:"api_url"`
	ListID       string            `json:"list_id"`
	ListName     string            `json:"list_name,omitempty"`
	ConnectionID string            `json:"connection_id"`
	Fields       map[string]string `json:"fields"` // configured title → AC field id
}

// ErrListMissing says the configured list is not in AC: the user must create it.
var ErrListMissing = errors.New("list not found")

// covers reports whether a cached setup still fits the config.
func (s *Setup) covers(apiURL, list string, fields []schemas.ContactField) bool {
	if s == nil || s.APIURL != apiURL || s.ConnectionID == "" || s.ListID == "" {
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
	if cached.covers(cfg.APIURL, cfg.List, fields) {
		return cached, nil
	}
	list, err := c.FindList(ctx, cfg.List)
	if err != nil {
		return nil, fmt.Errorf("find list %q: %w", cfg.List, err)
	}
	if list == nil {
		return nil, fmt.Errorf("%w: ActiveCampaign has no list %q; create it in AC (Contacts → Lists → Add a list) or set activecampaign.list", ErrListMissing, cfg.List)
	}
	s := &Setup{APIURL: cfg.APIURL, ListID: string(list.ID), ListName: list.Name, Fields: map[string]string{}}
	conn, err := c.EnsureConnection(ctx, ac.Connection{
		Service: "cb2ac", ExternalID: cfg.ConnectionExternalID(), Name: "Chargebee (cb2ac)",
		LogoURL: "https://www.chargebee.com/favicon.ico", LinkURL: "https://github.com/cb2ac/cb2ac", ListID: string(list.ID),
	})
	if err != nil {
		return nil, fmt.Errorf("deep data connection: %w", err)
	}
	s.ConnectionID = string(conn.ID)
	if err := ensureFields(ctx, c, s, fields); err != nil {
		return nil, err
	}
	return s, nil
}

func ensureFields(ctx context.Context, c *ac.Client, s *Setup, want []schemas.ContactField) error {
	existing, rels, err := c.Fields(ctx)
	if err != nil {
		return fmt.Errorf("custom fields: %w", err)
	}
	index := func(fs []ac.Field) (map[string]ac.Field, map[string]ac.Field) {
		byTitle, byTag := map[string]ac.Field{}, map[string]ac.Field{}
		for _, f := range fs {
			byTitle[strings.ToLower(f.Title)] = f
			if f.Perstag != "" {
				byTag[strings.ToUpper(f.Perstag)] = f
			}
		}
		return byTitle, byTag
	}
	byTitle, byTag := index(existing)
	attached := map[string]bool{}
	for _, r := range rels {
		if string(r.Relid) == s.ListID || r.Relid == "0" {
			attached[string(r.Field)] = true
		}
	}
	for _, f := range want {
		// Titles match ignoring case, as AC's own duplicate check does.
		got, ok := byTitle[strings.ToLower(f.Title)]
		if !ok && f.Perstag != "" {
			got, ok = byTag[strings.ToUpper(f.Perstag)]
		}
		if !ok {
			created, err := c.CreateField(ctx, ac.Field{Title: f.Title, Type: fieldType(f.Type), Perstag: f.Perstag, Descript: "Filled by cb2ac from Chargebee"})
			var e *ac.Error
			if errors.As(err, &e) && (e.HasCode("duplicate") || e.HasCode("field_invalid")) {
				// Someone created it meanwhile, or it differs only in case: adopt it.
				existing, rels, err = c.Fields(ctx)
				if err != nil {
					return fmt.Errorf("custom fields: %w", err)
				}
				byTitle, byTag = index(existing)
				for _, r := range rels {
					if string(r.Relid) == s.ListID || r.Relid == "0" {
						attached[string(r.Field)] = true
					}
				}
				got, ok = byTitle[strings.ToLower(f.Title)]
				if !ok && f.Perstag != "" {
					got, ok = byTag[strings.ToUpper(f.Perstag)]
				}
				if !ok {
					return fmt.Errorf("custom field %q: AC says it exists but it is not in the field list: %w", f.Title, e)
				}
			} else if err != nil {
				return fmt.Errorf("custom field %q: %w", f.Title, err)
			} else {
				got = *created
			}
		}
		if !attached[string(got.ID)] {
			if err := c.AttachField(ctx, got.ID, ac.ID(s.ListID)); err != nil {
				return fmt.Errorf("attach field %q to the list: %w", f.Title, err)
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
