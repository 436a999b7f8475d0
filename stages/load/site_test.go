package load

import (
	"context"
	"testing"

	"github.com/cb2ac/cb2ac/schemas"
)

// One connection per Chargebee site: a connection made before cb2ac named every
// site (externalid "chargebee", the site given by CHARGEBEE_SITE or
// CHARGEBEE_API_URL) is adopted by the first site that loads, renamed to its
// name, cached setup or not; another site then gets a connection of its own; and
// a site never gets two.
func TestConnectionPerSite(t *testing.T) {
	srv, c, url := sandboxClient(t)
	ctx := context.Background()
	fields := []schemas.ContactField{{Title: "Plan", Type: "text"}}
	legacy, err := EnsureSetup(ctx, c, nil, Config{APIURL: url, List: "Customers"}, fields)
	if err != nil {
		t.Fatal(err)
	}
	if sn := srv.Snapshot(); len(sn.Connections) != 1 || sn.Connections[0].ExternalID != "chargebee" {
		t.Fatalf("before: %+v; want one connection, externalid chargebee", sn.Connections)
	}
	legacy.ConnectionExternalID = "" // as state.json cached it before the site was kept

	acme := Config{APIURL: url, List: "Customers", Site: "acme"}
	got, err := EnsureSetup(ctx, c, legacy, acme, fields)
	if err != nil {
		t.Fatal(err)
	}
	if got.ConnectionID != legacy.ConnectionID || got.ConnectionExternalID != "acme" {
		t.Errorf("site acme: connection %s (%q); want the old connection %s adopted as acme", got.ConnectionID, got.ConnectionExternalID, legacy.ConnectionID)
	}
	again, err := EnsureSetup(ctx, c, nil, acme, fields)
	if err != nil {
		t.Fatal(err)
	}
	if again.ConnectionID != got.ConnectionID {
		t.Errorf("site acme again: connection %s, want %s", again.ConnectionID, got.ConnectionID)
	}
	beta, err := EnsureSetup(ctx, c, legacy, Config{APIURL: url, List: "Customers", Site: "beta"}, fields)
	if err != nil {
		t.Fatal(err)
	}
	if beta.ConnectionID == got.ConnectionID || beta.ConnectionExternalID != "beta" {
		t.Errorf("site beta: connection %s (%q); want one of its own", beta.ConnectionID, beta.ConnectionExternalID)
	}
	ext := map[string]int{}
	for _, cn := range srv.Snapshot().Connections {
		ext[cn.ExternalID]++
	}
	if len(ext) != 2 || ext["acme"] != 1 || ext["beta"] != 1 {
		t.Errorf("connections by externalid: %v; want acme and beta, one each", ext)
	}
	// A load that knows no site (a backfill from files) keeps the cached connection.
	kept, err := EnsureSetup(ctx, c, beta, Config{APIURL: url, List: "Customers"}, fields)
	if err != nil {
		t.Fatal(err)
	}
	if kept != beta {
		t.Errorf("no site: setup redone (%+v), want the cached one", kept)
	}
}
