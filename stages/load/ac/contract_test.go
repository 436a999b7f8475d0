package ac_test

import (
	"os"
	"testing"
	"time"

	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
	"github.com/cb2ac/cb2ac/stages/load/ac/actest"
)

// The contract suite against the sandbox (make test).
func TestContractSandbox(t *testing.T) {
	const failEmail = "refused@example.com"
	srv, err := acsandbox.New(acsandbox.Options{Token: "contract-token", ApplyDelay: 10 * time.Millisecond, FailEmails: []string{failEmail}})
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last first: this check runs after the suite's own cleanup, and
	// sees that it removed what it made, leaving only the account's own list.
	t.Cleanup(func() {
		defer srv.Close()
		sn := srv.Snapshot()
		if len(sn.Contacts) != 0 || len(sn.Fields) != 0 || len(sn.FieldRels) != 0 || len(sn.Connections) != 0 || len(sn.Lists) != 1 {
			t.Errorf("left behind: %d contacts, %d fields, %d fieldRels, %d connections, %d lists",
				len(sn.Contacts), len(sn.Fields), len(sn.FieldRels), len(sn.Connections), len(sn.Lists))
		}
	})
	actest.Run(t, actest.Target{APIURL: url, Token: "contract-token", RateLimit: 1000, FailEmail: failEmail, Flush: srv.Flush})
}

// The same suite against a real account: `make test-live` with AC_API_URL and
// AC_API_TOKEN. It touches only a list, fields, a connection and contacts it creates,
// and removes them; never in CI.
func TestContractLive(t *testing.T) {
	if os.Getenv("CB2AC_LIVE") != "1" {
		t.Skip("live ActiveCampaign contract: run `make test-live` with AC_API_URL and AC_API_TOKEN set")
	}
	if os.Getenv("CI") != "" {
		t.Skip("the live contract never runs in CI")
	}
	url, token := os.Getenv("AC_API_URL"), os.Getenv("AC_API_TOKEN")
	if url == "" || token == "" {
		t.Skip("set AC_API_URL and AC_API_TOKEN")
	}
	actest.Run(t, actest.Target{APIURL: url, Token: token})
}
